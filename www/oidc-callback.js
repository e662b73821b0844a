// The last page of the Worker's sign-in window (worker-step-up.js): hands the authorization
// response (`?code&state`, or `?error`) to the bank page that opened the window, on this
// origin only, and takes it out of this window's address bar and history. The page that
// opened the window closes it once it has the answer. The code is worth nothing without
// that page's PKCE verifier.
const CALLBACK_MESSAGE = "vestibule.oidc-callback";
const status = document.getElementById("callback-status");
const search = location.search;
history.replaceState(null, "", location.pathname);
if (window.opener && !window.opener.closed) {
  window.opener.postMessage({ type: CALLBACK_MESSAGE, search }, location.origin);
  status.textContent = "Done. Going back to Woodgrove Bank; this window closes by itself.";
} else {
  status.textContent = "This window was not opened by the bank's page, so there is nothing to go back to. Close it and start the transfer again.";
}
