"use client";

import { type FormEvent, useCallback, useEffect, useRef, useState } from "react";

import { QuantityInput, parseQuantity } from "@/components/QuantityInput";
import { checkAmount } from "@/lib/amount";
import { payLabel } from "@/lib/money";
import type { FormFlash } from "@/lib/request";

interface CustomAmount {
  min: number;
  max: number;
  minText: string;
  maxText: string;
  preset: string;
}

interface Props {
  slug: string;
  idempotencyKey: string;
  locale: string;
  decimalSeparator: string;
  currency: string;
  /** The API's currency_exponent, currency_decimals and currency_step. */
  exponent: number;
  decimals: number;
  step: number;
  custom: CustomAmount | null;
  /** A fixed price the customer buys one or more of: the unit price in minor units. */
  quantity?: { min: number; max: number; unit: number; unitText: string } | null;
  payLabel: string;
  flash: FormFlash | null;
}

type Errors = { amount?: string; email?: string; quantity?: string; form?: string };

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** Codes that close the link for good: show its own page (with its HTTP status). A
 * "sold_out" answer stays in the form: it may only mean every place is being paid for
 * right now, and the customer can try again in a few minutes. */
const CLOSED = new Set(["expired", "inactive", "not_found"]);

/**
 * The "Pay" form. Rendered on the server as a plain HTML form that posts to
 * /pay/<slug>/checkout and works without JavaScript; once hydrated, it checks the fields
 * in the page, disables the button on the first click and asks for JSON instead of a
 * redirect, so errors appear at their field without a reload. The idempotency key is made
 * per page render, so even two posts of the same form start one checkout.
 */
export function PayForm(props: Props) {
  const { slug, custom, flash, quantity } = props;
  const [key, setKey] = useState(props.idempotencyKey);
  const [errors, setErrors] = useState<Errors>(() =>
    flash ? (flash.field ? { [flash.field]: flash.message } : { form: flash.message }) : {},
  );
  const [busy, setBusy] = useState(false);
  const [enhanced, setEnhanced] = useState(false);
  // A customer-chosen amount: the button says what will be paid once the typed amount is valid.
  const [label, setLabel] = useState(props.payLabel);
  const submitting = useRef(false);
  const amountRef = useRef<HTMLInputElement>(null);
  const emailRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    setEnhanced(true);
    // Coming back from the hosted checkout with the browser's Back button restores this
    // page from cache: let the customer pay again, as a new checkout.
    const onShow = (event: PageTransitionEvent) => {
      if (!event.persisted) return;
      submitting.current = false;
      setBusy(false);
      setKey(crypto.randomUUID());
    };
    window.addEventListener("pageshow", onShow);
    return () => window.removeEventListener("pageshow", onShow);
  }, []);

  // What the customer typed comes back with the server's error (without JavaScript).
  const typedQuantity = flash?.quantity && /^\d{1,6}$/.test(flash.quantity) ? flash.quantity : "";
  const initialText = quantity ? typedQuantity || String(quantity.min) : "1";
  const initialQuantity = quantity ? parseQuantity(initialText, quantity.min, quantity.max) : 1;
  const showQuantity = useCallback(
    (units: number | null) => {
      if (!quantity) return;
      if (units !== null) setErrors((found) => (found.quantity ? { ...found, quantity: undefined } : found));
      // Display only: the server multiplies the price by the quantity it accepts.
      setLabel(
        units === null
          ? "Pay"
          : payLabel(quantity.unit * units, props.currency, props.locale, { exponent: props.exponent, places: props.decimals }),
      );
    },
    [quantity, props.currency, props.locale, props.exponent, props.decimals],
  );

  useEffect(() => {
    if (quantity && initialQuantity !== quantity.min) showQuantity(initialQuantity);
    if (flash?.field === "quantity") document.getElementById("quantity")?.focus();
  }, [quantity, initialQuantity, showQuantity]);

  const showAmount = useCallback(
    (typed: string) => {
      if (!custom) return;
      const check = checkAmount(typed, {
        currency: props.currency,
        exponent: props.exponent,
        decimals: props.decimals,
        step: props.step,
        min: custom.min,
        max: custom.max,
        locale: props.locale,
        decimalSeparator: props.decimalSeparator,
      });
      setLabel(
        check.ok
          ? payLabel(check.minor, props.currency, props.locale, { exponent: props.exponent, places: props.decimals })
          : props.payLabel,
      );
    },
    [custom, props.currency, props.exponent, props.decimals, props.step, props.locale, props.decimalSeparator, props.payLabel],
  );

  useEffect(() => {
    // The preset (or the amount sent back with an error) is in the field before any typing.
    if (amountRef.current) showAmount(amountRef.current.value);
  }, [showAmount]);

  useEffect(() => {
    if (flash?.field === "amount") amountRef.current?.focus();
    else if (flash?.field === "email") emailRef.current?.focus();
  }, [flash]);

  const validate = useCallback(
    (form: HTMLFormElement): { errors: Errors; amount?: string } => {
      const data = new FormData(form);
      const found: Errors = {};
      let amount: string | undefined;
      const email = String(data.get("email") ?? "").trim();
      if (!email) found.email = "Enter your e-mail address for the receipt.";
      else if (!EMAIL_RE.test(email) || email.length > 254) found.email = "Enter a valid e-mail address, like name@example.com.";
      if (quantity && parseQuantity(String(data.get("quantity") ?? ""), quantity.min, quantity.max) === null) {
        found.quantity = `Choose a quantity from ${quantity.min} to ${quantity.max}.`;
      }
      if (custom) {
        const check = checkAmount(String(data.get("amount") ?? ""), {
          currency: props.currency,
          exponent: props.exponent,
          decimals: props.decimals,
          step: props.step,
          min: custom.min,
          max: custom.max,
          locale: props.locale,
          decimalSeparator: props.decimalSeparator,
        });
        if (check.ok) amount = check.major;
        else found.amount = check.message;
      }
      return { errors: found, amount };
    },
    [custom, props.currency, props.exponent, props.decimals, props.step, props.locale, props.decimalSeparator],
  );

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (submitting.current) return;
    const form = event.currentTarget;
    const { errors: found, amount } = validate(form);
    setErrors(found);
    if (found.amount || found.email || found.quantity) {
      if (found.quantity) document.getElementById("quantity")?.focus();
      else (found.amount ? amountRef : emailRef).current?.focus();
      return;
    }
    submitting.current = true;
    setBusy(true);
    const body = new FormData(form);
    if (amount !== undefined) body.set("amount", amount);
    let response: Response;
    try {
      response = await fetch(form.action, {
        method: "POST",
        body,
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
    } catch {
      // The network failed before an answer: let the browser post the form itself.
      form.submit();
      return;
    }
    let data: { checkout_url?: string; error?: { code?: string; message?: string; field?: string } } = {};
    try {
      data = await response.json();
    } catch {
      data = {};
    }
    if (response.ok && data.checkout_url) {
      window.location.assign(data.checkout_url);
      return;
    }
    const code = data.error?.code ?? "";
    if (CLOSED.has(code)) {
      window.location.assign(`/pay/${encodeURIComponent(slug)}`);
      return;
    }
    const message = data.error?.message || "Payments are not available right now. Please try again in a moment.";
    const field = data.error?.field;
    setErrors(field === "amount" || field === "email" || field === "quantity" ? { [field]: message } : { form: message });
    if (field === "quantity") document.getElementById("quantity")?.focus();
    else if (field === "amount") amountRef.current?.focus();
    else if (field === "email") emailRef.current?.focus();
    submitting.current = false;
    setBusy(false);
  }

  const amountInvalid = Boolean(errors.amount);
  const emailInvalid = Boolean(errors.email);

  return (
    <form
      className="pay-form"
      method="post"
      action={`/pay/${encodeURIComponent(slug)}/checkout`}
      onSubmit={onSubmit}
      noValidate={enhanced}
      aria-describedby={errors.form ? "form-error" : undefined}
    >
      <input type="hidden" name="idempotency_key" value={key} />
      {quantity ? (
        <QuantityInput
          min={quantity.min}
          max={quantity.max}
          initial={initialText}
          unitText={quantity.unitText}
          enhanced={enhanced}
          invalid={Boolean(errors.quantity)}
          error={errors.quantity}
          onChange={showQuantity}
        />
      ) : null}
      {custom ? (
        <div className={`field${amountInvalid ? " has-error" : ""}`}>
          <label htmlFor="amount">
            Amount <span className="label-note">({props.currency})</span>
          </label>
          <input
            ref={amountRef}
            id="amount"
            name="amount"
            type="text"
            inputMode="decimal"
            autoComplete="off"
            required
            defaultValue={flash?.amount || custom.preset}
            onInput={(event) => showAmount(event.currentTarget.value)}
            aria-invalid={amountInvalid || undefined}
            aria-describedby={`amount-hint${amountInvalid ? " amount-error" : ""}`}
          />
          <p className="hint" id="amount-hint">
            Between {custom.minText} and {custom.maxText}
          </p>
          {amountInvalid ? (
            <p className="field-error" id="amount-error" role="alert" data-testid="amount-error">
              {errors.amount}
            </p>
          ) : null}
        </div>
      ) : null}
      <div className={`field${emailInvalid ? " has-error" : ""}`}>
        <label htmlFor="email">E-mail</label>
        <input
          ref={emailRef}
          id="email"
          name="email"
          type="email"
          autoComplete="email"
          inputMode="email"
          maxLength={254}
          required
          defaultValue={flash?.email ?? ""}
          aria-invalid={emailInvalid || undefined}
          aria-describedby={`email-hint${emailInvalid ? " email-error" : ""}`}
        />
        <p className="hint" id="email-hint">
          For your receipt.
        </p>
        {emailInvalid ? (
          <p className="field-error" id="email-error" role="alert" data-testid="email-error">
            {errors.email}
          </p>
        ) : null}
      </div>
      {errors.form ? (
        <p className="form-error" id="form-error" role="alert" data-testid="form-error">
          {errors.form}
        </p>
      ) : null}
      <button type="submit" className="pay-button" disabled={busy} aria-disabled={busy || undefined}>
        {busy ? "Starting secure checkout…" : label}
      </button>
      <p className="fine">You will enter your payment details on the secure checkout page next.</p>
    </form>
  );
}
