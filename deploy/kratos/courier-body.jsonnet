// Passes template_data through: the default body has no code field, and the dev mailbox (and any
// HTTP mail relay) needs the one-time code as template_data.login_code.
function(ctx) {
  recipient: ctx.recipient,
  template_type: ctx.template_type,
  subject: ctx.subject,
  template_data: if "template_data" in ctx then ctx.template_data else null,
  body: ctx.body,
}
