// Running total on the budget ballot. The server checks everything again; this only helps people see.
(function () {
  const form = document.getElementById("ballot");
  if (!form) return;
  const out = document.getElementById("running-total");
  const kind = form.dataset.kind;
  const budget = Number(form.dataset.budget);
  const fmt = (minor) => (minor / 100).toLocaleString(undefined, { minimumFractionDigits: 2 }) + " " + form.dataset.currency;
  function update() {
    if (kind === "cumulative") {
      let used = 0;
      form.querySelectorAll("input[type=number]").forEach((i) => { used += Number(i.value || 0); });
      const max = Number(form.dataset.points);
      out.textContent = used + " / " + max + " points";
      out.classList.toggle("over", used > max);
      return;
    }
    let cost = 0, count = 0;
    form.querySelectorAll("input[type=checkbox]:checked").forEach((i) => { cost += Number(i.dataset.cost); count += 1; });
    if (kind === "approval") {
      const max = Number(form.dataset.max);
      out.textContent = count + " / " + max + " chosen";
      out.classList.toggle("over", count > max);
    } else {
      out.textContent = fmt(cost) + " of " + fmt(budget) + " (" + fmt(Math.max(0, budget - cost)) + " left)";
      out.classList.toggle("over", cost > budget);
    }
  }
  form.addEventListener("input", update);
  update();
})();
