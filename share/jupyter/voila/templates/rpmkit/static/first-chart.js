// Draws a cell's first chart as soon as plotly's bundle has run, before the kernel
// connects and the widgets exist. The figure comes with the page, as an output of
// type application/vnd.rpmkit.first-chart+json (rpmkit.ui.charts.first_chart_output)
// that Voila's own front end has no renderer for. The drawing moves into its chart
// slot once the slot is on the page, and goes away when the live chart in that slot
// has drawn, so each slot ends with exactly one chart: the live one.

const MIME = "application/vnd.rpmkit.first-chart+json";
const OUTPUTS = 'script[type="application/vnd.voila.cell-output+json"]';

function firstCharts() {
  const found = [];
  for (const script of document.querySelectorAll(OUTPUTS)) {
    if (!script.textContent.includes(MIME)) continue;
    try {
      const spec = JSON.parse(script.textContent).data[MIME];
      if (spec && spec.slot && spec.figure) found.push([script, spec]);
    } catch (error) {
      // an output that only mentions the type; not ours to draw
    }
  }
  return found;
}

// The elements plotly's widget views have drawn their figures in. A view may draw
// before its element is put in its slot, so the slot is checked again on every change
// of the page, not only when the event comes.
const drawnLive = new Set();
const waiting = new Set();
document.addEventListener("plotlywidget-after-render", (event) => {
  const el = event.detail && event.detail.element;
  if (el) drawnLive.add(el);
  waiting.forEach((check) => check());
});

function draw(Plotly, script, spec) {
  const slotClass = "rpm-slot-" + spec.slot;
  const holder = document.createElement("div");
  holder.className = "rpm-first-chart";
  holder.style.width = "100%";
  const gd = document.createElement("div");
  holder.appendChild(gd);
  let done = false;

  const finish = () => {
    if (done) return;
    done = true;
    observer.disconnect();
    waiting.delete(check);
    Plotly.purge(gd);
    holder.remove();
  };
  let slot = null;
  const check = () => {
    if (done) return;
    if (!slot || !slot.isConnected) slot = document.querySelector("." + CSS.escape(slotClass));
    if (!slot) return;
    for (const el of drawnLive) {
      if (el.isConnected && slot.contains(el) && !holder.contains(el)) {
        finish();
        return;
      }
    }
    if (holder.parentElement === slot) return;
    if (!slot.getClientRects().length) {
      // the slot is in a tab or section not shown: its live chart draws when it is,
      // and the drawing must not stand for it meanwhile
      finish();
      return;
    }
    // last child: the slot's own children keep their places before it
    slot.appendChild(holder);
    Plotly.Plots.resize(gd);
  };
  const observer = new MutationObserver(check);

  script.after(holder);
  waiting.add(check);
  observer.observe(document.body, { childList: true, subtree: true });
  const figure = spec.figure;
  return Plotly.newPlot(gd, figure.data || [], figure.layout || {}, spec.config || {})
    .then(check)
    .catch(finish);
}

// Voila shows the cells once its front end has started (its theme plugin); a page
// with a chart to show shows them now: the title, the text and the chart, the
// widgets filling in when the kernel has connected.
function showCells() {
  const spinner = document.getElementById("loading");
  if (spinner) spinner.remove();
  const cells = document.getElementById("rendered_cells");
  if (cells) cells.style.display = "";
}

// The mark says when plotly's bundle has run, most of the wait for the early drawing
// (benchmarks/dashboards.py reads it).
export async function drawFirstCharts(bundleUrl) {
  const found = firstCharts();
  // the charts import the same URL; import() runs the bundle once per page
  await import(bundleUrl);
  performance.mark("rpm:first-chart:plotly");
  const Plotly = window.Plotly;
  if (!Plotly || !found.length) return;
  showCells();
  for (const [script, spec] of found) await draw(Plotly, script, spec);
}
