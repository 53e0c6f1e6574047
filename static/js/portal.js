// Behaviour that pages would otherwise put inline (the Content-Security-Policy allows no inline script).
document.addEventListener("change", function (event) {
  // the language switch in the header submits itself; <noscript> keeps a button for pages without JS
  if (event.target && event.target.id === "lang-select") {
    event.target.form.submit();
  }
});
