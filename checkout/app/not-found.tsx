import type { Metadata } from "next";

import { Shell } from "@/components/Shell";

export const metadata: Metadata = { title: "Payment link not found" };

export default function NotFound() {
  return (
    <Shell>
      <section className="card state state-missing" aria-labelledby="missing-title" data-state="not_found">
        <h1 id="missing-title">This payment link does not exist</h1>
        <p>Check that you copied the whole link, or ask the business that sent it for a new one.</p>
      </section>
    </Shell>
  );
}
