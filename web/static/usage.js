// Poll the organisation's usage every second and redraw the numbers and the charts; the server
// renders the first state, so the page works without this too.
(() => {
  const url = "/usage/data.json?org=" + encodeURIComponent(document.currentScript.dataset.org);
  const svgNS = "http://www.w3.org/2000/svg";
  function bars(svg, points, label) {
    svg.replaceChildren();
    const max = Math.max(1, ...points.map(p => p.calls));
    const w = 480 / Math.max(points.length, 1);
    points.forEach((p, i) => {
      const h = Math.round(100 * p.calls / max);
      const r = document.createElementNS(svgNS, "rect");
      r.setAttribute("x", i * w + 1); r.setAttribute("width", Math.max(w - 2, 1));
      r.setAttribute("y", 110 - h); r.setAttribute("height", h);
      r.setAttribute("class", p.errors > 0 ? "bar has-errors" : "bar");
      const t = document.createElementNS(svgNS, "title");
      t.textContent = label(p) + ": " + p.calls + " calls, " + p.errors + " errors";
      r.appendChild(t); svg.appendChild(r);
    });
  }
  function hoursOfToday(hours) {
    const out = [];
    const day = new Date(); day.setUTCHours(0, 0, 0, 0);
    for (let h = 0; h < 24; h++) {
      const at = day.getTime() + h * 3600e3;
      const found = hours.find(x => Date.parse(x.hour) === at);
      out.push(found || {hour: new Date(at).toISOString(), calls: 0, errors: 0});
    }
    return out;
  }
  function render(data) {
    for (const l of data.usage) {
      const el = document.querySelector(`[data-line="${l.product}/${l.environment}"]`);
      if (!el) continue;
      const set = (f, v) => { const x = el.querySelector(`[data-field="${f}"]`); if (x) x.textContent = v; };
      set("used", l.used); set("limit", l.limit); set("remaining", l.remaining);
      set("percent", l.percent.toFixed(1)); set("percent-text", Math.floor(l.percent));
      set("errors", l.errors); set("calls", l.calls); set("error-rate", (l.error_rate * 100).toFixed(1) + " %");
      const bar = el.querySelector('[data-field="bar"]'); bar.max = l.limit; bar.value = l.used;
      el.querySelector(".alert-banner").hidden = !l.alert;
      bars(el.querySelector('[data-chart="today"]'), hoursOfToday(l.today), p => p.hour.slice(11, 16));
      bars(el.querySelector('[data-chart="daily"]'), l.daily, p => p.hour.slice(0, 10));
    }
    const alerts = document.getElementById("usage-alerts");
    for (const n of data.notifications) {
      if (alerts.querySelector(`[data-notification="${CSS.escape(n.id)}"]`)) continue;
      const p = document.createElement("p");
      p.className = "notice quota-alert"; p.dataset.notification = n.id;
      const b = document.createElement("strong"); b.textContent = n.title;
      p.append(b, document.createElement("br"), n.body);
      alerts.prepend(p);
    }
  }
  async function poll() {
    try {
      const r = await fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}});
      if (r.ok) render(await r.json());
    } catch (e) { /* the next poll tries again */ }
    setTimeout(poll, 1000);
  }
  poll();
})();
