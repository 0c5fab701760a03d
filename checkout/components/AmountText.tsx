import { formatMinor, type MinorUnits, mentionsCode } from "@/lib/money";

/** An amount in the customer's locale, with the ISO code beside it when the symbol alone is ambiguous. */
export function AmountText({
  minor,
  currency,
  locale,
  units,
  className,
  testId,
}: {
  minor: number;
  currency: string;
  locale: string;
  /** The API's currency_exponent and currency_decimals. */
  units: MinorUnits;
  className?: string;
  testId?: string;
}) {
  const text = formatMinor(minor, currency, locale, units);
  return (
    <span className={className} data-testid={testId}>
      {text}
      {mentionsCode(text, currency) ? null : <span className="code"> {currency.toUpperCase()}</span>}
    </span>
  );
}
