// Host: the dashboard's Streamlit component (v2). Streamlit calls the default export again with
// new data after each rerun (the same element stays mounted): the race updates in place.
export default function (component) {
  const { parentElement, setStateValue, setTriggerValue } = component;
  const data = Array.isArray(component.data) ? component.data[0] : component.data;
  const app = mountRace(parentElement, { setStateValue, setTriggerValue });
  if (data) app.update(data);
  return () => unmountRace(parentElement);
}
