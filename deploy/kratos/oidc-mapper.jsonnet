// Maps a partner identity provider's claims to the partner schema: only the e-mail is needed.
local claims = std.extVar('claims');
{
  identity: {
    traits: {
      email: std.asciiLower(claims.email),
    },
  },
}
