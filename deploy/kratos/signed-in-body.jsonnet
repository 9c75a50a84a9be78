// What the portal's sign-in completion hook sees: only who signed in. The portal reads the rest
// (address, linked identity providers) from Kratos's admin API itself.
function(ctx) {
  identity_id: ctx.identity.id,
}
