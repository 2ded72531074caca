/* The book's own scripts, loaded on every page (html_js_files in _config.yml).

   Animations: book/_ext/figures.py writes each animated GIF inside
   <picture class="mdn-animation">, with a <source> that shows a still frame to readers
   whose system asks for reduced motion. This adds a button after each that stills the
   animation or starts it again, by switching that <source> on ("all") or off ("not all").
   Under reduced motion the still shows first and the button offers to play. */
document.addEventListener("DOMContentLoaded", () => {
  const reduced = window.matchMedia("(prefers-reduced-motion: reduce)");
  for (const picture of document.querySelectorAll("picture.mdn-animation")) {
    const still = picture.querySelector("source");
    if (!still) { continue; }
    const button = document.createElement("button");
    button.type = "button";
    button.className = "mdn-animation-toggle";
    let playing = !reduced.matches;
    const show = () => {
      button.textContent = playing ? "Pause the animation" : "Play the animation";
    };
    button.addEventListener("click", () => {
      playing = !playing;
      still.media = playing ? "not all" : "all";
      show();
    });
    show();
    (picture.closest("a") || picture).after(button);
  }
});

/* "On this page" on a narrow screen: the theme opens the page's sections in a dialog over
   the page. Following one of its links scrolled the page behind the dialog but left the
   dialog open; close it, so that the reader sees the section. */
document.addEventListener("click", (event) => {
  const link = event.target.closest("#pst-secondary-sidebar-modal a[href^='#']");
  if (link) {
    link.closest("dialog").close();
  }
});
