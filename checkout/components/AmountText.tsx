import { formatMinor, mentionsCode } from "@/lib/money";

/** An amount in the customer's locale, with the ISO code beside it when the symbol alone is ambiguous. */
export function AmountText({
  minor,
  currency,
  locale,
  decimals,
  className,
  testId,
}: {
  minor: number;
  currency: string;
  locale: string;
  decimals?: number | null;
  className?: string;
  testId?: string;
}) {
  const text = formatMinor(minor, currency, locale, decimals);
  return (
    <span className={className} data-testid={testId}>
      {text}
      {mentionsCode(text, currency) ? null : <span className="code"> {currency.toUpperCase()}</span>}
    </span>
  );
}
