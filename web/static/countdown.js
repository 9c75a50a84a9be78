// Count the overlap down on the page; the gateway enforces it whatever this shows.
document.querySelectorAll(".countdown[data-seconds]").forEach(el => {
  let left = +el.dataset.seconds;
  const tick = () => { el.textContent = left > 0 ? left + "s left" : "overlap over"; left--; };
  tick(); setInterval(tick, 1000);
});
