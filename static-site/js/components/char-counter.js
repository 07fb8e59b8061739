// A visible character counter for a text field. It never blocks typing (the field has
// no maxlength, which would silently drop what is typed or pasted past the limit):
// past the limit it says how many characters are too many, and the form refuses to
// send until the text fits. Characters are counted as code points, as the API counts.

import { h } from "../dom.js";

/** The length of `text` as the API counts it (an emoji is one character, not two). */
export function characterCount(text) {
  let count = 0;
  for (const _ of String(text ?? "")) count += 1;
  return count;
}

const number = new Intl.NumberFormat("en");

export class CharCounter {
  #over = false;

  /**
   * @param {HTMLInputElement|HTMLTextAreaElement} field
   * @param {number} max
   * @param {{id: string, name: string, onLimit?: (text: string) => void}} options
   *   onLimit is told (once per crossing) when the text goes over or back under the limit
   */
  constructor(field, max, { id, name, onLimit }) {
    this.field = field;
    this.max = max;
    this.name = name;
    this.onLimit = onLimit;
    this.element = h("p", { id, class: "char-counter", dataset: { charCounter: field.name || id } });
    field.addEventListener("input", () => this.update());
    this.update();
  }

  get over() {
    return characterCount(this.field.value) > this.max;
  }

  /** Show the current count (call after setting the field's value from code). */
  update() {
    const count = characterCount(this.field.value);
    const over = count > this.max;
    this.element.textContent = over
      ? `${number.format(count)} / ${number.format(this.max)} characters: ${number.format(count - this.max)} too many`
      : `${number.format(count)} / ${number.format(this.max)} characters`;
    this.element.dataset.state = over ? "over" : count >= this.max * 0.9 ? "near" : "ok";
    if (over !== this.#over) {
      this.#over = over;
      this.onLimit?.(over ? `${this.name} is over the ${number.format(this.max)}-character limit.` : `${this.name} fits the limit again.`);
    }
  }
}
