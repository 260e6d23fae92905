// The new-passport form (issue 18): as soon as a valid plate is typed, the car's brand,
// model, fuel, first registration and APK expiry come from the vehicle register
// (PassportView.register_fill) into the fields the user left empty. What the user typed is
// never overwritten; what this script filled is replaced when the plate changes.
(function () {
  "use strict";
  var form = document.querySelector("form[data-register-fill]");
  if (!form || !form.elements.plate) return;
  var FIELDS = ["brand", "model", "fuel", "first_registration", "apk_expiry"];
  var plate = form.elements.plate;
  var note = document.createElement("span");
  note.className = "help-block register-fill-note";
  note.setAttribute("aria-live", "polite");
  plate.parentNode.appendChild(note);
  var timer = null;
  var asked = "";

  // Each filled field says so under it: one note at the plate did not tell which of five
  // fields came from RDW and which the user had typed.
  function mark(field, on) {
    var next = field.nextElementSibling;
    var marked = next && next.classList.contains("register-filled-mark");
    if (on && !marked) {
      var words = document.createElement("span");
      words.className = "help-block register-filled-mark";
      words.textContent = form.getAttribute("data-register-mark-text");
      field.parentNode.insertBefore(words, field.nextSibling);
    } else if (!on && marked) {
      next.parentNode.removeChild(next);
    }
  }

  FIELDS.forEach(function (name) {
    var field = form.elements[name];
    if (!field) return;
    // Typed by the user: from now on his.
    field.addEventListener("input", function () {
      delete field.dataset.registerFilled;
      mark(field, false);
    });
  });

  function fill(values) {
    var filled = 0;
    FIELDS.forEach(function (name) {
      var field = form.elements[name];
      if (!field || !values[name]) return;
      // A value equal to the register's is the register's: after a refused save the
      // form comes back with the filled values as if typed, and saving leaves them out
      // of the passport alike (vehicle_values.untyped_if_registered).
      var same = field.value.trim().toLowerCase() === String(values[name]).toLowerCase();
      if (field.value.trim() === "" || field.dataset.registerFilled === "1" || same) {
        field.value = values[name];
        field.dataset.registerFilled = "1";
        mark(field, true);
        filled += 1;
      }
    });
    note.textContent = filled ? form.getAttribute("data-register-filled-text") : "";
  }

  function forget() {
    // Another plate: what the register gave for the last one no longer belongs here.
    FIELDS.forEach(function (name) {
      var field = form.elements[name];
      if (field && field.dataset.registerFilled === "1") {
        field.value = "";
        delete field.dataset.registerFilled;
        mark(field, false);
      }
    });
  }

  function lookUp() {
    var typed = plate.value.toUpperCase().replace(/[^A-Z0-9]/g, "");
    if (typed === asked) return;
    asked = typed;
    forget();
    note.textContent = "";
    if (typed.length !== 6) return;
    var url = form.getAttribute("data-register-fill") + "?plate=" + encodeURIComponent(typed);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (answer) {
        if (typed !== asked) return; // the plate changed meanwhile
        if (answer.ok) fill(answer.body);
        else note.textContent = answer.body.message || "";
      })
      .catch(function () { /* no register today: the user types as before */ });
  }

  plate.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(lookUp, 250);
  });
  plate.addEventListener("change", lookUp);
  if (plate.value) lookUp();
})();
