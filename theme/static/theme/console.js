/* Paylinks console: copy-to-clipboard and live money hints. No dependencies. */
(function () {
    "use strict";

    // --- money hints -----------------------------------------------------------------
    // The payment-link form embeds, per currency, an example amount and a sentence on what
    // to type (generated from paylinks/money.py, so the rules live in one place).
    var currencyTable = null;

    window.paylinksMoney = function (code) {
        if (currencyTable === null) {
            var element = document.getElementById("paylinks-currencies");
            currencyTable = element ? JSON.parse(element.textContent) : {};
        }
        return currencyTable[code] || { example: "", hint: "" };
    };

    // --- one time zone ---------------------------------------------------------------
    // The console shows and reads every date in the merchant's reporting zone and names
    // it ("2 Dec 2026, 14:05 CET"; date filters say "date (Europe/Copenhagen)"). Django's
    // calendar widgets would add "Note: You are 9 hours ahead of server time" with a red
    // icon wherever the browser's zone differs from that one. Keep their calendar and
    // their "Today" (which follows the page's zone), without the note. They add it on
    // window load, after this runs.
    document.addEventListener("DOMContentLoaded", function () {
        if (window.DateTimeShortcuts) {
            window.DateTimeShortcuts.addTimezoneWarning = function () {};
        }
    });

    // --- a detail action's result, in place -----------------------------------------
    // Actions such as "Refund" post their dialog through htmx; the server answers 204 with
    // an HX-Trigger "paylinks:refresh" naming the object's page (paylinks/admin/mixins.py,
    // refresh_in_place). Read that page and swap its main column in: the result (new
    // refunded amount, timeline, refunds, or the error message) shows without a reload.
    // Without JavaScript the same form posts and the server redirects to the page.
    function closeDialog() {
        var data = window.Alpine ? window.Alpine.$data(document.body) : null;
        if (data) {
            data.openModal = false;
        }
    }

    function readPage(url) {
        return fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
            .then(function (response) {
                if (!response.ok) {
                    throw new Error("HTTP " + response.status);
                }
                return response.text();
            })
            .then(function (html) {
                return new DOMParser().parseFromString(html, "text/html");
            });
    }

    function swap(id, fresh) {
        var current = document.getElementById(id);
        var replacement = fresh.getElementById(id);
        if (!current || !replacement) {
            throw new Error("the page has no #" + id);
        }
        var nodes = Array.prototype.slice.call(replacement.childNodes).map(function (node) {
            return document.adoptNode(node);
        });
        current.replaceChildren.apply(current, nodes);
        if (window.htmx) {
            window.htmx.process(current); // the new page's action buttons open dialogs again
        }
        return current;
    }

    // While the page says a refund waits for the gateway ("data-paylinks-awaiting"), read
    // it again a few times and swap the payment's details in (not the messages above
    // them, which were shown once already), so the refunded amount and status follow.
    function followGateway(url, round) {
        if (round > 6 || !document.querySelector("#content-main [data-paylinks-awaiting]")) {
            return;
        }
        window.setTimeout(function () {
            readPage(url)
                .then(function (fresh) {
                    swap("content-main", fresh);
                    followGateway(url, round + 1);
                })
                .catch(function () {});
        }, 1000 * round);
    }

    document.addEventListener("paylinks:refresh", function (event) {
        var detail = event.detail || {};
        var url = typeof detail === "string" ? detail : detail.value || window.location.href;
        closeDialog();
        readPage(url)
            .then(function (fresh) {
                swap("main", fresh);
                if (window.scrollY > 0) {
                    window.scrollTo({ top: 0, behavior: "smooth" }); // the message is at the top
                }
                document.dispatchEvent(new CustomEvent("paylinks:refreshed"));
                followGateway(url, 1);
            })
            .catch(function () {
                window.location.assign(url); // show the result the ordinary way
            });
    });

    // --- copy to clipboard -------------------------------------------------------------
    function toast(message) {
        var element = document.getElementById("paylinks-toast");
        if (!element) {
            element = document.createElement("div");
            element.id = "paylinks-toast";
            element.className = "paylinks-toast";
            element.setAttribute("role", "status");
            element.setAttribute("aria-live", "polite");
            document.body.appendChild(element);
        }
        element.textContent = message;
        element.classList.add("is-visible");
        window.clearTimeout(element._hide);
        element._hide = window.setTimeout(function () {
            element.classList.remove("is-visible");
        }, 1800);
    }

    function copyWithTextarea(text) {
        // Plain-http deployments have no navigator.clipboard: fall back to a selection.
        var area = document.createElement("textarea");
        area.value = text;
        area.setAttribute("readonly", "");
        area.style.position = "fixed";
        area.style.opacity = "0";
        document.body.appendChild(area);
        area.select();
        var done = false;
        try {
            done = document.execCommand("copy");
        } catch (error) {
            done = false;
        }
        document.body.removeChild(area);
        return done ? Promise.resolve() : Promise.reject(new Error("copy refused"));
    }

    function copyText(text) {
        if (navigator.clipboard && window.isSecureContext) {
            return navigator.clipboard.writeText(text).catch(function () {
                return copyWithTextarea(text);
            });
        }
        return copyWithTextarea(text);
    }

    function copied(button) {
        toast((button && button.getAttribute("data-copy-toast")) || "Link copied");
        if (!button) {
            return;
        }
        button.classList.add("is-copied");
        window.setTimeout(function () {
            button.classList.remove("is-copied");
        }, 1500);
    }

    function failed(text) {
        window.prompt("Copy the link:", text);
    }

    document.addEventListener("click", function (event) {
        var direct = event.target.closest("[data-copy]");
        if (direct) {
            event.preventDefault();
            event.stopPropagation();
            var text = direct.getAttribute("data-copy");
            copyText(text).then(function () { copied(direct); }, function () { failed(text); });
            return;
        }

        // Row actions ("Copy link" in a row's menu) point at a console URL that answers
        // with the link's public address as text.
        var fetched = event.target.closest("a[data-copy-fetch]");
        if (fetched) {
            event.preventDefault();
            fetch(fetched.href, { credentials: "same-origin", headers: { Accept: "text/plain" } })
                .then(function (response) {
                    if (!response.ok) {
                        throw new Error("HTTP " + response.status);
                    }
                    return response.text();
                })
                .then(function (text) {
                    return copyText(text).then(function () { copied(null); }, function () { failed(text); });
                })
                .catch(function () {
                    toast("Could not copy the link");
                });
        }
    });
})();
