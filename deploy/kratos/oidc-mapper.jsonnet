// Maps a partner identity provider's claims to the partner schema. Onramp prepends, per partner,
//   local organisation = "<name>"; local domains = ["<domain>", ...];
// so a partner's identity provider can only vouch for verified addresses of its own domains:
// another tenant's address, or an unverified one, is refused with one of the codes below (the
// portal shows its own text for each; nothing a claim holds is ever shown).
local claims = std.extVar('claims');
local email = std.asciiLower(if 'email' in claims && claims.email != null then claims.email else '');
local parts = std.split(email, '@');
local domain = if std.length(parts) == 2 then parts[1] else '';
local verified = 'email_verified' in claims && claims.email_verified == true;
if email == '' then
  error 'onramp:no-email'
else if !verified then
  error 'onramp:not-verified'
else if std.length([d for d in domains if d == domain]) == 0 then
  error 'onramp:not-domain'
else {
  identity: {
    traits: {
      email: email,
    },
  },
}
