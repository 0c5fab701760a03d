import { Shell } from "@/components/Shell";

export default function CheckoutNotFound() {
  return (
    <Shell>
      <section className="card state" aria-labelledby="nf-title" data-state="not_found">
        <h1 id="nf-title">We could not find this payment</h1>
        <p>The confirmation link is incomplete or not one of ours. If you paid, your receipt e-mail has the details.</p>
      </section>
    </Shell>
  );
}
