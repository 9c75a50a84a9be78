// Try-it: the portal sends the request through the gateway with the chosen key and shows the
// policy's prediction, then the gateway's real answer. The page gives the version and endpoint.
const cfg = document.currentScript.dataset;
document.querySelectorAll("form.tryit").forEach(form => {
  form.addEventListener("submit", async ev => {
    ev.preventDefault();
    const req = {credential_id: form.credential.value, operation: form.dataset.operation, version: cfg.version,
      path_params: {}, query: {}, headers: {}, body: form.body ? form.body.value : ""};
    form.querySelectorAll("input[data-in]").forEach(i => {
      const bucket = {path: req.path_params, query: req.query, header: req.headers}[i.dataset.in];
      if (bucket && i.value !== "") bucket[i.dataset.name] = i.value;
    });
    const out = form.querySelector(".tryit-result");
    const res = await fetch(cfg.endpoint, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(req)});
    const data = await res.json();
    out.hidden = false;
    if (!res.ok) { out.querySelector(".prediction").textContent = data.detail || "The request could not be sent."; return; }
    const p = out.querySelector(".prediction");
    p.textContent = "Policy prediction: " + data.prediction.message;
    p.className = "prediction " + (data.prediction.allowed ? "notice" : "error");
    out.querySelector(".status").textContent = data.response.status;
    out.querySelector(".latency").textContent = data.response.latency_ms.toFixed(1) + " ms";
    out.querySelector(".url").textContent = data.method + " " + data.url;
    let body = data.response.body;
    try { body = JSON.stringify(JSON.parse(body), null, 2); } catch (e) {}
    out.querySelector(".resp-body").textContent = body;
    out.querySelector(".resp-headers").textContent = Object.entries(data.response.headers).map(([k, v]) => k + ": " + v).join("\n");
    out.querySelectorAll(".snippet").forEach(el => el.textContent = data.snippets[el.dataset.lang]);
  });
});
