export function Unavailable({ message, retryHref }: { message: string; retryHref: string }) {
  return (
    <section className="card state" aria-labelledby="unavailable-title" data-state="unavailable">
      <h1 id="unavailable-title">Checkout is unavailable right now</h1>
      <p>{message} Nothing was charged.</p>
      <p>
        <a className="secondary-button" href={retryHref}>
          Try again
        </a>
      </p>
    </section>
  );
}
