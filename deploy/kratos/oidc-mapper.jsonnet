// Maps a partner identity provider's claims to the partner schema. Onramp prepends, per partner,
//   local organisation = "<name>"; local domains = ["<domain>", ...];
// so a partner's identity provider can only vouch for verified addresses of its own domains:
// another tenant's address, or an unverified one, is refused (the portal shows the text after
// "onramp: ").
local claims = std.extVar('claims');
local email = std.asciiLower(if 'email' in claims && claims.email != null then claims.email else '');
local parts = std.split(email, '@');
local domain = if std.length(parts) == 2 then parts[1] else '';
local verified = 'email_verified' in claims && claims.email_verified == true;
if email == '' then
  error 'onramp: ' + organisation + "'s identity provider sent no e-mail address; ask your IT team to release the email claim to this portal."
else if !verified then
  error 'onramp: ' + organisation + "'s identity provider did not confirm that " + email + ' is verified; ask your IT team to mark it verified.'
else if std.length([d for d in domains if d == domain]) == 0 then
  error 'onramp: ' + email + ' is not an address of ' + organisation + ' (' + std.join(', ', domains) + '); sign in with your ' + organisation + ' address.'
else {
  identity: {
    traits: {
      email: email,
    },
  },
}
