"use client";

export default function ErrorPage({ reset }: { error: Error; reset: () => void }) {
  return (
    <main className="wrap">
      <section className="card state" aria-labelledby="error-title">
        <h1 id="error-title">Something went wrong</h1>
        <p>Nothing was charged. Please try again in a moment.</p>
        <button type="button" className="secondary-button" onClick={() => reset()}>
          Try again
        </button>
      </section>
    </main>
  );
}
