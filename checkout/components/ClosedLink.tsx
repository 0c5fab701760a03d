import { placesHeldText } from "@/lib/errors";
import type { PublicLink } from "@/lib/types";

const HEADINGS: Record<string, string> = {
  expired: "This payment link has expired",
  inactive: "This payment link is not active",
  sold_out: "Sold out",
  places_held: "All places are being paid for",
};

const TEXT: Record<string, string> = {
  expired: "It can no longer be used to pay. Nothing was charged. Ask the business for a new link.",
  sold_out: "Every place on this link has been paid for. Nothing was charged.",
};

export function closedTitle(link: PublicLink): string {
  return `${HEADINGS[link.state] ?? "Unavailable"} – ${link.title}`;
}

/**
 * The page an expired, inactive, sold-out link shows (answered with 410/410/409), and a
 * link whose places are all held by unpaid checkouts (409, for now: it says when to retry).
 */
export function ClosedLink({ link }: { link: PublicLink }) {
  const message =
    link.state === "inactive"
      ? link.inactive_message || "This link is not accepting payments."
      : link.state === "places_held"
        ? placesHeldText(link.retry_after)
        : TEXT[link.state];
  return (
    <section className={`card state state-${link.state}`} aria-labelledby="state-title" data-state={link.state}>
      <p className="eyebrow">{link.title}</p>
      <h1 id="state-title">{HEADINGS[link.state] ?? "This payment link is unavailable"}</h1>
      <p className="state-message" data-testid="state-message">
        {message}
      </p>
      {link.state === "places_held" ? (
        <p>
          <a className="secondary-button" href={`/pay/${encodeURIComponent(link.slug)}`}>
            Try again
          </a>
        </p>
      ) : null}
    </section>
  );
}
