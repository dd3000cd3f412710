// Host: the notebook widget (anywidget; optviz/notebook/widget.py). The data's packed numbers
// arrive as binary buffers, put back in place as DataViews (race.js reads them as they are).
// Slider values go back to Python ("sliders") when a move ends, so that the widget's scene follows.
export default {
  render({ model, el }) {
    const note = document.createElement("div");
    note.className = "ov-widget-note";
    el.append(note);
    const holder = document.createElement("div");
    el.append(holder);
    const app = mountRace(holder, {
      setStateValue: (key, value) => {
        if (key !== "sliders") return;
        model.set("sliders", value);
        model.save_changes();
      },
    });
    const show = () => {
      const title = model.get("title"), text = model.get("note");
      note.textContent = "";
      if (title) { const b = document.createElement("b"); b.textContent = title + ": "; note.append(b); }
      if (text) note.append(text);
      note.style.display = title || text ? "" : "none";
      const data = model.get("data");
      if (data && data.optimizers) app.update(data);
    };
    show();
    model.on("change:data", show);
    return () => {
      model.off("change:data", show);
      unmountRace(holder);
    };
  },
};
