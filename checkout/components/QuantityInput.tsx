"use client";

import { useState } from "react";

interface Props {
  min: number;
  max: number;
  /** The field's text when the page loads: the minimum, or what the customer typed
   * before the server sent the form back with an error. */
  initial: string;
  /** One unit's price, formatted ("$14.50"). */
  unitText: string;
  /** Whether the page's script runs: the − and + buttons exist only then. */
  enhanced: boolean;
  invalid: boolean;
  error?: string;
  onChange: (quantity: number | null) => void;
}

/** A whole number within min..max, or null. */
export function parseQuantity(text: string, min: number, max: number): number | null {
  const trimmed = text.trim();
  if (!/^\d{1,6}$/.test(trimmed)) return null;
  const value = Number(trimmed);
  return value >= min && value <= max ? value : null;
}

/**
 * The quantity field of the Pay form: a plain number input named "quantity", which the
 * form posts without JavaScript (the server checks it and computes the total); with
 * JavaScript, − and + buttons step it and the form's Pay button shows the total. What is
 * shown here is only display: the server decides what is charged.
 */
export function QuantityInput({ min, max, initial, unitText, enhanced, invalid, error, onChange }: Props) {
  const [text, setText] = useState(initial);
  const current = parseQuantity(text, min, max);

  function set(next: string) {
    setText(next);
    onChange(parseQuantity(next, min, max));
  }

  function step(by: number) {
    const base = current ?? min;
    set(String(Math.min(max, Math.max(min, base + by))));
  }

  return (
    <div className={`field quantity${invalid ? " has-error" : ""}`}>
      <label htmlFor="quantity">Quantity</label>
      <div className="stepper">
        {enhanced ? (
          <button
            type="button"
            className="step"
            onClick={() => step(-1)}
            disabled={current !== null && current <= min}
            aria-label="One fewer"
            aria-controls="quantity"
          >
            −
          </button>
        ) : null}
        <input
          id="quantity"
          name="quantity"
          type="number"
          inputMode="numeric"
          min={min}
          max={max}
          step={1}
          required
          value={text}
          onChange={(event) => set(event.currentTarget.value)}
          aria-invalid={invalid || undefined}
          aria-describedby={`quantity-hint${invalid ? " quantity-error" : ""}`}
          data-testid="quantity"
        />
        {enhanced ? (
          <button
            type="button"
            className="step"
            onClick={() => step(1)}
            disabled={current !== null && current >= max}
            aria-label="One more"
            aria-controls="quantity"
          >
            +
          </button>
        ) : null}
      </div>
      <p className="hint" id="quantity-hint">
        {unitText} each · {min === max ? `${min}` : `${min} to ${max}`}
        {enhanced ? "" : ". The next page shows the total."}
      </p>
      {invalid ? (
        <p className="field-error" id="quantity-error" role="alert" data-testid="quantity-error">
          {error}
        </p>
      ) : null}
    </div>
  );
}
