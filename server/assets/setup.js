// First-run setup form: posts to the API with the token from the link.
(function () {
  var form = document.getElementById("setup-form");
  var message = document.getElementById("message");
  var token = new URLSearchParams(window.location.search).get("token") || "";
  if (!token) {
    message.textContent = "This page needs the setup link printed in the server log.";
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    message.textContent = "Creating the admin…";
    fetch("/api/v1/setup", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      credentials: "same-origin",
      body: JSON.stringify({
        token: token,
        name: form.elements.name.value,
        email: form.elements.email.value,
        password: form.elements.password.value,
      }),
    })
      .then(function (response) {
        return response.json().then(function (body) {
          return { ok: response.ok, body: body };
        });
      })
      .then(function (result) {
        if (result.ok) {
          form.replaceChildren();
          var done = document.createElement("p");
          done.textContent = "Done: " + result.body.person.display_name + " is an admin and signed in.";
          form.appendChild(done);
          return;
        }
        var error = result.body.error || {};
        var details = Object.keys(error.fields || {}).map(function (field) {
          return field + " " + error.fields[field];
        });
        message.textContent = [error.message].concat(details).join("; ");
      })
      .catch(function () {
        message.textContent = "Plein did not answer. Is the server running?";
      });
  });
})();
