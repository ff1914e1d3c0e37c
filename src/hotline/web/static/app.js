// Keyboard help for the staff console (htmx does the rest).
// Alt+<letter> moves to the field marked data-key="<letter>" (the <kbd> hints on the form), the
// same in every browser (native accesskeys differ: Alt, Alt+Shift, Ctrl+Alt).
document.addEventListener("keydown", function (event) {
  if (!event.altKey || event.ctrlKey || event.metaKey || event.key.length !== 1) return;
  var field = document.querySelector('[data-key="' + event.key.toLowerCase() + '"]');
  if (!field) return;
  event.preventDefault();
  field.focus();
  if (field.select && field.tagName === "INPUT") field.select();
});
// Ctrl+Enter (or Cmd+Enter) submits a form marked data-ctrl-enter-submit from any of its fields,
// through requestSubmit so htmx's boost and the browser's own validation still apply.
document.addEventListener("keydown", function (event) {
  if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
  var field = event.target;
  var form = field && (field.form || (field.closest && field.closest("form")));
  if (!form || !form.hasAttribute("data-ctrl-enter-submit")) return;
  event.preventDefault();
  // Inside a part marked data-ctrl-enter-with (转应急部门, 不予受理) it clicks that part's button, so
  // htmx (which learns the pressed button from its click) sends the button's action along.
  var part = field.closest && field.closest("[data-ctrl-enter-with]");
  var button = part && form.querySelector(part.getAttribute("data-ctrl-enter-with"));
  if (button) button.click(); else if (form.requestSubmit) form.requestSubmit(); else form.submit();
});

// Charts: an element with data-chart holds an ECharts option built by the server. ECharts (shipped
// in /static, never a CDN) is loaded once, on the first page that has a chart; charts are drawn on
// page load and after every htmx swap, and follow the window's size.
(function () {
  var waiting = [];
  function draw(root) {
    var boxes = (root || document).querySelectorAll("[data-chart]");
    if (!boxes.length) return;
    if (!window.echarts) {
      waiting.push(root || document);
      if (waiting.length > 1) return;
      var tag = document.createElement("script");
      tag.src = "/static/echarts.min.js";
      tag.onload = function () { var roots = waiting; waiting = []; roots.forEach(draw); };
      document.head.appendChild(tag);
      return;
    }
    boxes.forEach(function (box) {
      if (!box.isConnected) return;
      var mapName = box.getAttribute("data-map-name");
      if (mapName && !window.echarts.getMap(mapName)) {  // a map chart: its GeoJSON first, then draw
        loadMap(mapName, box.getAttribute("data-map-url"), function () { render(box); });
        return;
      }
      render(box);
    });
  }
  // One chart: init (with the theme asked for, e.g. the wall's "dark"), the server's option, and a
  // click on a data item that carries a link opens it (the drill-down to the tickets behind it).
  function render(box) {
    if (!box.isConnected) return;
    var chart = window.echarts.getInstanceByDom(box) ||
      window.echarts.init(box, box.getAttribute("data-chart-theme") || null);
    chart.setOption(withFormatters(JSON.parse(box.getAttribute("data-chart"))), true);
    if (!box.__linked) {
      box.__linked = true;
      chart.on("click", function (params) {
        var link = params && params.data && params.data.link;
        if (link) follow(link);
      });
    }
  }
  // The server's option is JSON, so it cannot hold a function; ECharts takes a template string for
  // most formatters but wants a function for a tooltip's valueFormatter: "{value}%" becomes one
  // (an empty value, a day without data, reads "—").
  function withFormatters(option) {
    var tip = option && option.tooltip;
    if (tip && typeof tip.valueFormatter === "string") {
      var template = tip.valueFormatter;
      tip.valueFormatter = function (value) {
        return value === null || value === undefined || value === "-" ? "—" : template.replace("{value}", value);
      };
    }
    return option;
  }
  // Maps (GeoJSON shipped in /static/maps) are fetched once and registered with ECharts.
  var maps = {};
  function loadMap(name, url, done) {
    if (!maps[name]) {
      maps[name] = [];
      fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (geo) {
        window.echarts.registerMap(name, geo);
        var queued = maps[name]; maps[name] = null;
        queued.forEach(function (fn) { fn(); });
      });
    }
    if (maps[name] === null) done(); else maps[name].push(done);
  }
  // A link followed as a boosted link would be (swap in place, history kept), or plainly where the
  // page has no htmx boost (the wall display).
  function follow(link) {
    var boosted = document.body.hasAttribute("hx-boost") && window.htmx;
    if (!boosted) { window.location.href = link; return; }
    var a = document.createElement("a");
    a.href = link;
    a.hidden = true;
    document.body.appendChild(a);
    window.htmx.process(a);
    a.click();
  }
  window.hotlineCharts = { draw: draw };
  // A chart's DOM element about to be swapped out: let ECharts go too (the wall swaps every minute).
  document.addEventListener("htmx:beforeCleanupElement", function (e) {
    var el = e.target;
    if (window.echarts && el.hasAttribute && el.hasAttribute("data-chart")) {
      var chart = window.echarts.getInstanceByDom(el);
      if (chart) chart.dispose();
    }
  });
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:load", function (e) { draw(e.target); });
  window.addEventListener("resize", function () {
    if (!window.echarts) return;
    document.querySelectorAll("[data-chart]").forEach(function (box) {
      var chart = window.echarts.getInstanceByDom(box);
      if (chart) chart.resize();
    });
  });
})();

// 采用此答复: a knowledge base answer is copied into the intake form's 直接答复内容, ready to edit.
// It is copied on the press already: pressing the button takes the focus from a field the panel
// follows (分类, 发生地), whose change redraws the panel; a redraw landing before the release
// replaces the button under the pointer, and the browser then sends no click at all. The click
// (mouse, Enter or Space) copies again, the same text, and puts the cursor in the answer.
(function () {
  function adopt(event, focus) {
    var button = event.target.closest && event.target.closest("[data-adopt]");
    if (!button || (event.type === "mousedown" && event.button !== 0)) return;
    var field = document.querySelector("textarea[name=answer]");
    var body = button.parentNode.querySelector(".kb-body");
    if (!field || !body) return;
    field.value = body.textContent.trim();
    if (focus) field.focus();
  }
  document.addEventListener("mousedown", function (event) { adopt(event, false); });
  document.addEventListener("click", function (event) { adopt(event, true); });
})();

// A suggestion button fills a field of the intake form (data-fill="field name", data-value="…")
// and announces the change, so the panels that follow that field refresh. Like 采用此答复, it acts
// on the press already (the panel it sits in may be redrawn before the release); the click that
// follows announces nothing when the field already holds the value.
(function () {
  function fill(event, focus) {
    var button = event.target.closest && event.target.closest("[data-fill]");
    if (!button || (event.type === "mousedown" && event.button !== 0)) return;
    var field = document.querySelector('#intake-form [name="' + button.getAttribute("data-fill") + '"]');
    if (!field) return;
    var value = button.getAttribute("data-value");
    if (field.value !== value) {
      field.value = value;
      field.dispatchEvent(new Event("change", { bubbles: true }));
    }
    if (focus) field.focus();
  }
  document.addEventListener("mousedown", function (event) { fill(event, false); });
  document.addEventListener("click", function (event) { fill(event, true); });
})();

// 并单 choice beside the intake form: a radio of the nearby panel is chosen on the press, before
// the field left behind announces its change, so the panel's redraw (which sends the choice made)
// keeps it even when it replaces the radio before the release.
document.addEventListener("mousedown", function (event) {
  if (event.button !== 0 || !event.target.closest) return;
  var label = event.target.closest("#nearby label");
  var radio = label && label.querySelector("input[type=radio][name=merge_into]");
  if (radio && !event.target.closest("a")) radio.checked = true;
});

// The dispatch queue: a row's unit picker (select[data-units]) holds only its suggested unit; it gets
// every unit of the page's one list (<template id="unit-options">) the first time it is focused,
// clicked or touched, before it opens, so keyboard (Tab, arrows, typing a name) and mouse work as on
// a full list and the pre-selected unit stays chosen (the page is 13 times smaller than with a full
// list in every row). A returned ticket's picker leaves out the unit that sent it back.
(function () {
  function fill(event) {
    var select = event.target && event.target.closest && event.target.closest("select[data-units]");
    var list = document.getElementById("unit-options");
    if (!select || !list) return;
    select.removeAttribute("data-units");
    var chosen = select.value, exclude = select.getAttribute("data-exclude");
    var options = list.content.cloneNode(true);
    var skip = exclude && options.querySelector('option[value="' + exclude + '"]');
    if (skip) skip.remove();
    while (select.options.length > 1) select.remove(1);  // keep the 选择承办单位 placeholder
    select.appendChild(options);
    select.value = chosen;
  }
  ["focusin", "pointerdown", "mousedown", "touchstart"].forEach(function (type) {
    document.addEventListener(type, fill, true);
  });
  // The suggested co-handlers (协办) go with the suggested lead unit: picking another lead unticks
  // them, picking the suggestion again ticks them again; the dispatcher may tick them by hand.
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select || select.name !== "lead_unit_id" || !select.form) return;
    select.form.querySelectorAll("input[data-with-lead]").forEach(function (box) {
      box.checked = box.getAttribute("data-with-lead") === select.value;
    });
  });
})();

// A text box that belongs to a choice (data-check="id of its radio"): typing in it, or entering it,
// makes that choice, as a person expects (the ticket page's 并单: 主工单号 typed after an offer was picked).
["focusin", "input"].forEach(function (type) {
  document.addEventListener(type, function (event) {
    var id = event.target && event.target.getAttribute && event.target.getAttribute("data-check");
    var radio = id && document.getElementById(id);
    if (radio) radio.checked = true;
  });
});

// The analytics period picker: typing a date chooses 自定义, so 查看 counts the days typed (they
// were ignored while 本月 stayed chosen). The server does the same without script (shown_first).
document.addEventListener("input", function (event) {
  var field = event.target;
  if (!field.matches || !field.matches(".period-picker input[type=date]")) return;
  var custom = field.form && field.form.querySelector("input[name=period][value=custom]");
  if (custom) custom.checked = true;
});

// A button marked data-copy="#field" copies that field's text (a new API token, shown only once).
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("[data-copy]");
  if (!button) return;
  var field = document.querySelector(button.getAttribute("data-copy"));
  if (!field) return;
  field.select();
  var copied = function () { button.textContent = "已复制"; };
  var fallback = function () { if (document.execCommand("copy")) copied(); };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(field.value).then(copied, fallback);
  } else {
    fallback();
  }
});
