// Copy buttons of the developer portal: the text of a target element, or of the
// example just before the button. Served from the package (no CDN).
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button.copy");
  if (!button) return;
  let source = null;
  if (button.dataset.copy) source = document.querySelector(button.dataset.copy);
  else if (button.hasAttribute("data-copy-next")) source = button.previousElementSibling;
  if (!source) return;
  const text = source.value !== undefined ? source.value : source.innerText;
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "已复制 / Copied";
  } catch (err) {
    const range = document.createRange();
    range.selectNodeContents(source);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    button.textContent = "已选中，请按 Ctrl+C / Selected: press Ctrl+C";
  }
});
