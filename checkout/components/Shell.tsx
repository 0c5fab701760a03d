import type { ReactNode } from "react";

import { mediaOrigins } from "@/lib/config";
import { accentColor } from "@/lib/contrast";
import type { Merchant } from "@/lib/types";

/** The page frame: the merchant's band (brand colour, logo, name: the one place the name is shown) above the content. */
export function Shell({
  merchant,
  nonce,
  children,
}: {
  merchant?: Merchant | null;
  nonce?: string | null;
  children: ReactNode;
}) {
  // White text on the brand colour, or on the default when white would not read on it (AA).
  const brand = accentColor(merchant?.brand_color);
  return (
    <>
      {merchant ? (
        // The brand colour comes from a validated hex value; the nonce lets the CSP allow it.
        <style nonce={nonce ?? undefined}>{`:root{--brand:${brand};--on-brand:#ffffff}`}</style>
      ) : null}
      <header className="band">
        <div className="band-inner">
          {merchant?.logo_url && isSafeImage(merchant.logo_url) ? (
            // eslint-disable-next-line @next/next/no-img-element -- a merchant's own file, fixed box, no optimiser
            <img className="logo" src={merchant.logo_url} alt="" width={40} height={40} />
          ) : null}
          <span className="merchant-name">{merchant?.name ?? "Paylinks"}</span>
        </div>
      </header>
      <main className="wrap" id="main">
        {children}
      </main>
      <footer className="foot">
        <p>
          Secure checkout powered by Paylinks
          {merchant?.support_email ? (
            <>
              {" · "}Questions? <a href={`mailto:${merchant.support_email}`}>{merchant.support_email}</a>
            </>
          ) : null}
        </p>
      </footer>
    </>
  );
}

/** Same-origin paths (proxied to Django's media), or origins the CSP lets images come from. */
function isSafeImage(url: string): boolean {
  if (url.startsWith("/")) return !url.startsWith("//");
  try {
    return mediaOrigins().includes(new URL(url).origin);
  } catch {
    return false;
  }
}
