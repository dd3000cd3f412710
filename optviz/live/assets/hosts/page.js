// Host: a web page on its own (optviz.live.html): the numbers are in the page, no server answers.
{
  const holder = document.getElementById("optviz-race");
  const data = JSON.parse(document.getElementById("optviz-data").textContent);
  mountRace(holder).update(data);
}
