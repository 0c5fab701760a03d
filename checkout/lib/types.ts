/** The public API's shapes (paylinks/api/public.py). */

export interface Money {
  value: number;
  display: string;
}

export interface Merchant {
  name: string;
  brand_color: string;
  logo_url: string | null;
  support_email: string | null;
}

/**
 * "places_held": every place left on a limited link is held by a checkout not paid yet;
 * not sold out, because an unfinished checkout gives its place back.
 */
export type LinkState = "active" | "expired" | "inactive" | "sold_out" | "places_held";

export interface PublicLink {
  slug: string;
  state: LinkState;
  title: string;
  description: string;
  /** The product image, absolute on Django's address, with its size in pixels; or nulls. */
  image_url: string | null;
  image_width: number | null;
  image_height: number | null;
  merchant: Merchant;
  currency: string;
  /** Decimal places of the minor unit (paylinks/money.py; USD 2, JPY 0, KWD 3, ISK 2). */
  currency_exponent: number;
  /** Places a person sees and types (ISK 0). */
  currency_decimals: number;
  /** Every amount is a multiple of this many minor units (KWD 10, ISK 100, USD 1). */
  currency_step: number;
  amount_type: "fixed" | "customer";
  amount: Money | null;
  custom_amount: { min: Money; max: Money; preset: Money | null } | null;
  /** A fixed price the customer buys one or more of (null: one). Optional: older APIs lack it. */
  quantity?: { min: number; max: number } | null;
  /** A limited link: units a customer can start paying for now (null: no limit). */
  units_left?: number | null;
  collect: { email: boolean; name: boolean; phone: boolean; billing_address: boolean };
  expires_at: string | null;
  inactive_message: string | null;
  /** places_held only: seconds until the first unpaid checkout gives its place back (null: unknown). */
  retry_after: number | null;
  /** places_held only: the server's sentence for it. */
  places_message: string | null;
}

export interface CheckoutCreated {
  checkout_url: string;
  session_id: string;
  payment_id: string;
  amount: Money;
  unit_amount?: Money;
  quantity?: number;
  currency: string;
  currency_exponent: number;
  currency_decimals: number;
  currency_step: number;
  expires_at: string | null;
}

export type PaymentStatus =
  | "pending"
  | "succeeded"
  | "failed"
  | "expired"
  | "canceled"
  | "partially_refunded"
  | "refunded";

export interface CheckoutStatus {
  session_id: string;
  status: PaymentStatus;
  processing: boolean;
  amount: Money;
  /** One unit's price and the units bought. Optional: older APIs lack them. */
  unit_amount?: Money;
  quantity?: number;
  currency: string;
  currency_exponent: number;
  currency_decimals: number;
  currency_step: number;
  payment_intent_id: string | null;
  /** When the payment succeeded or failed (ISO 8601, UTC); null while pending. Optional: older APIs lack it. */
  completed_at?: string | null;
  /** Whether the receipt e-mail went to the customer. Optional: older APIs lack it. */
  receipt_sent?: boolean;
  link: { slug: string; title: string };
  merchant: Merchant;
  after_payment: { type: "message"; message: string | null } | { type: "redirect"; url: string };
  failure: { code: string; message: string } | null;
  retry_url: string;
}

export interface ApiErrorBody {
  error: { code: string; message: string };
}
