// Small behaviours every page may use, kept out of the markup (the Content-Security-Policy allows
// no inline code): a select that submits its form on change, and a form that asks first.
document.querySelectorAll("select[data-autosubmit]").forEach(el => el.addEventListener("change", () => el.form.submit()));
document.querySelectorAll("form[data-confirm]").forEach(form => form.addEventListener("submit", ev => {
  if (!confirm(form.dataset.confirm)) ev.preventDefault();
}));
