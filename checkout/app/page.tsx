import { Shell } from "@/components/Shell";

export default function Home() {
  return (
    <Shell>
      <section className="card" aria-labelledby="home-title">
        <h1 id="home-title">Paylinks checkout</h1>
        <p>Open the payment link you were given to pay. Links look like <code>/pay/…</code>.</p>
      </section>
    </Shell>
  );
}
