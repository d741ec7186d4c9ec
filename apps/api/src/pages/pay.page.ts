// Where Stripe Checkout sends the payer back (PAYMENT_SUCCESS_URL, PAYMENT_CANCEL_URL): two small pages naming the
// business, with a thank-you or a link to try again. They show nothing else of the payment (no amount, no client),
// and a request that names no payment gets the same page without a name, never an error.
const escapeHtml = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>body { font-family: system-ui, sans-serif; max-width: 30rem; margin: 3rem auto; padding: 0 1rem; }</style>
</head>
<body><main><h1>${escapeHtml(title)}</h1>${body}</main></body>
</html>
`;
}

/** The business the payment was for, when the request named one. */
export interface PayPageFacts {
  workspaceName?: string;
}

export function paySuccessHtml(facts: PayPageFacts & { paid?: boolean }): string {
  const to = facts.workspaceName ? ` to ${escapeHtml(facts.workspaceName)}` : '';
  return page(
    'Thank you for your payment',
    `<p>Your payment${to} has been received. ${
      facts.paid ? '' : 'It may take a moment to be confirmed. '
    }You can close this page.</p>`,
  );
}

export function payCancelHtml(facts: PayPageFacts & { retryUrl?: string | null }): string {
  const to = facts.workspaceName ? ` to ${escapeHtml(facts.workspaceName)}` : '';
  const retry = facts.retryUrl
    ? `<p><a href="${escapeHtml(facts.retryUrl)}" rel="noreferrer">Try the payment again</a></p>`
    : '<p>To pay, use the link in the reminder you received.</p>';
  return page('Payment not completed', `<p>Your payment${to} was not completed, and nothing was charged.</p>${retry}`);
}
