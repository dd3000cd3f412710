// Host: the notebook widget (anywidget; optviz.notebook.widget). The numbers come as binary
// buffers: the data's blocks name them ({"$buf": i}), resolved here to DataViews. Slider values
// go back to Python ("sliders") when a move ends, so that the widget's scene follows.
function resolveBuffers(value, buffers) {
  if (Array.isArray(value)) return value.map((v) => resolveBuffers(v, buffers));
  if (value && typeof value === "object" && !ArrayBuffer.isView(value)) {
    if (typeof value.$buf === "number") return buffers[value.$buf];
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = resolveBuffers(v, buffers);
    return out;
  }
  return value;
}

export default {
  render({ model, el }) {
    const app = mountRace(el, {
      setStateValue: (key, value) => {
        if (key !== "sliders") return;
        model.set("sliders", value);
        model.save_changes();
      },
    });
    const show = () => {
      const data = model.get("data");
      if (data && data.optimizers) app.update(resolveBuffers(data, model.get("buffers") || []));
    };
    show();
    model.on("change:data", show);
    return () => {
      model.off("change:data", show);
      unmountRace(el);
    };
  },
};
