// What the portal's registration gate sees: the new identity's traits and how it signs up.
function(ctx) {
  method: if "flow" in ctx && "active" in ctx.flow then ctx.flow.active else null,
  traits: ctx.identity.traits,
}
