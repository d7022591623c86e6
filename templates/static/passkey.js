// Sesame's passkeys: the one script of the pages, loaded only where a
// passkey may be used. A form with data-passkey="get" (sign in, second
// factor) or "create" (a new passkey) stays hidden without WebAuthn. On
// submit the script asks the form's action + "/options" for the
// ceremony's options (a POST with the form's fields), runs the ceremony,
// puts the browser's answer (JSON) in the form's "credential" field and
// submits the form: the server answers it as any form. "conditional" also
// offers passkeys in the email field's autofill.
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials || !window.fetch) {
    return;
  }

  function b64(buf) {
    var s = "", bytes = new Uint8Array(buf);
    for (var i = 0; i < bytes.length; i++) {
      s += String.fromCharCode(bytes[i]);
    }
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function unb64(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) {
      s += "=";
    }
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) {
      out[i] = bin.charCodeAt(i);
    }
    return out.buffer;
  }

  function ids(list) {
    return (list || []).map(function (c) {
      return Object.assign({}, c, { id: unb64(c.id) });
    });
  }

  function requestOptions(o) {
    if (PublicKeyCredential.parseRequestOptionsFromJSON) {
      return PublicKeyCredential.parseRequestOptionsFromJSON(o);
    }
    return Object.assign({}, o, { challenge: unb64(o.challenge), allowCredentials: ids(o.allowCredentials) });
  }

  function creationOptions(o) {
    if (PublicKeyCredential.parseCreationOptionsFromJSON) {
      return PublicKeyCredential.parseCreationOptionsFromJSON(o);
    }
    return Object.assign({}, o, {
      challenge: unb64(o.challenge),
      user: Object.assign({}, o.user, { id: unb64(o.user.id) }),
      excludeCredentials: ids(o.excludeCredentials)
    });
  }

  function answer(cred) {
    var r = cred.response, out = {
      id: cred.id,
      rawId: b64(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: b64(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      out.response.attestationObject = b64(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = b64(r.authenticatorData);
      out.response.signature = b64(r.signature);
      if (r.userHandle) {
        out.response.userHandle = b64(r.userHandle);
      }
    }
    return JSON.stringify(out);
  }

  function options(form) {
    var body = new URLSearchParams(new FormData(form));
    body.delete("credential");
    return fetch(form.action + "/options", {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (resp) {
      return resp.json().then(function (data) {
        if (!resp.ok) {
          throw new Error(data.error || resp.statusText);
        }
        return data.publicKey;
      });
    });
  }

  function show(form, msg) {
    var p = form.querySelector("[data-passkey-error]");
    if (p) {
      p.textContent = msg;
      p.hidden = !msg;
    }
  }

  function ceremony(form, mode, signal) {
    return options(form).then(function (o) {
      if (mode === "create") {
        return navigator.credentials.create({ publicKey: creationOptions(o) });
      }
      var req = { publicKey: requestOptions(o) };
      if (signal) {
        req.mediation = "conditional";
        req.signal = signal;
      }
      return navigator.credentials.get(req);
    }).then(function (cred) {
      if (!cred) {
        return;
      }
      form.elements.credential.value = answer(cred);
      HTMLFormElement.prototype.submit.call(form);
    });
  }

  document.querySelectorAll("form[data-passkey]").forEach(function (form) {
    var modes = form.getAttribute("data-passkey").split(" ");
    var mode = modes[0], waiting = null;
    form.hidden = false;
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (waiting) {
        waiting.abort();
        waiting = null;
      }
      show(form, "");
      ceremony(form, mode).catch(function (err) {
        show(form, err && err.name === "NotAllowedError" ? form.getAttribute("data-cancelled") || err.message : err.message);
      });
    });
    if (modes.indexOf("conditional") >= 0 && PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (ok) {
        if (!ok) {
          return;
        }
        // The challenge lives two minutes: the autofill asks for a new one
        // before it expires.
        var restart = function () {
          if (waiting) {
            waiting.abort();
          }
          waiting = new AbortController();
          ceremony(form, mode, waiting.signal).catch(function () {});
        };
        restart();
        setInterval(function () {
          if (waiting) {
            restart();
          }
        }, 100000);
      });
    }
  });
})();
