package apiserver

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/jonboulle/clockwork"
	"golang.org/x/time/rate"

	"github.com/setpoint-dev/setpoint/store/rest"
	"github.com/setpoint-dev/setpoint/watch"
)

// limiter is a token bucket (rate per second, burst), a cap on requests
// in flight, a separate cap on long-running requests (watches), and the
// deadlines of a request: on reading its body and on the whole request.
type limiter struct {
	rate        *rate.Limiter // nil: no rate limit
	clock       clockwork.Clock
	inflight    chan struct{}
	longRunning chan struct{}
	// bodyTimeout bounds reading a request's body (0: no bound); the
	// connection is cut off when it passes.
	bodyTimeout time.Duration
	// requestTimeout bounds a non-long-running request from its arrival
	// (0: no bound); the handler's context ends then (504).
	requestTimeout time.Duration
}

// newLimiter allows r requests per second with burst (default r, at least
// 1; r = 0 means no rate limit), maxInflight requests at once and as many
// watches; Config's timeouts are set on the result by the server.
func newLimiter(r float64, burst, maxInflight int, clock clockwork.Clock) *limiter {
	l := &limiter{clock: clock, inflight: make(chan struct{}, maxInflight), longRunning: make(chan struct{}, maxInflight)}
	if r > 0 {
		if burst == 0 {
			burst = max(int(r), 1)
		}
		l.rate = rate.NewLimiter(rate.Limit(r), burst)
	}
	return l
}

// acquire takes a token and a slot of slots; ok is false when either is
// exhausted. release returns the slot. With no slots (nil: API priority
// and fairness caps what is in flight), it takes only the token.
func (l *limiter) acquire(slots chan struct{}) (release func(), ok bool) {
	if l.rate != nil && !l.rate.AllowN(l.clock.Now(), 1) {
		return nil, false
	}
	if slots == nil {
		return func() {}, true
	}
	select {
	case slots <- struct{}{}:
		return func() { <-slots }, true
	default:
		return nil, false
	}
}

// withLimits answers 413 for a body announced larger than maxBody, and 429
// with Retry-After when the limiter refuses. A watch takes a token and a
// slot of the long-running cap, and no deadline. Any other request's body
// is read first, under the body deadline and before the request takes an
// in-flight slot: a client that sends its body slowly holds no slot, so
// it cannot lock others out; a body that turns out larger than maxBody is
// 413, one that does not arrive in time ends the connection (408). The
// request then takes a token and an in-flight slot, and its context ends
// requestTimeout after it arrived.
func withLimits(next http.Handler, l *limiter, maxBody int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived := l.clock.Now()
		if r.ContentLength > maxBody {
			rest.WriteError(w, watch.NewStatusError(http.StatusRequestEntityTooLarge, watch.StatusReasonRequestEntityTooLarge,
				fmt.Sprintf("request body of %d bytes is larger than the limit of %d bytes", r.ContentLength, maxBody)))
			return
		}
		if info, ok := infoOf(r); ok && (info.Verb == "watch" || isKubeletSubresource(info)) {
			release, ok := l.acquire(l.longRunning)
			if !ok {
				tooMany(w)
				return
			}
			defer release()
			next.ServeHTTP(w, r)
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			body, err := l.readBody(w, r, maxBody)
			if err != nil {
				var tooLarge *http.MaxBytesError
				switch {
				case errors.As(err, &tooLarge):
					rest.WriteError(w, watch.NewStatusError(http.StatusRequestEntityTooLarge, watch.StatusReasonRequestEntityTooLarge,
						fmt.Sprintf("request body is larger than the limit of %d bytes", maxBody)))
				case errors.Is(err, os.ErrDeadlineExceeded):
					w.Header().Set("Connection", "close")
					rest.WriteError(w, watch.NewStatusError(http.StatusRequestTimeout, watch.StatusReasonTimeout,
						fmt.Sprintf("the request body did not arrive within %v", l.bodyTimeout)))
				default:
					rest.WriteError(w, watch.NewStatusError(http.StatusBadRequest, watch.StatusReasonBadRequest,
						fmt.Sprintf("reading the request body: %v", err)))
				}
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		release, ok := l.acquire(l.inflight)
		if !ok {
			tooMany(w)
			return
		}
		defer release()
		if l.requestTimeout > 0 {
			ctx, cancel := clockwork.WithDeadline(r.Context(), l.clock, arrived.Add(l.requestTimeout))
			defer cancel()
			r = r.WithContext(ctx)
		}
		next.ServeHTTP(w, r)
	})
}

// readBody reads r's whole body, at most maxBody bytes, within the body
// deadline (a read deadline on the connection: a network deadline, so it
// runs on the real clock).
func (l *limiter) readBody(w http.ResponseWriter, r *http.Request, maxBody int64) ([]byte, error) {
	rc := http.NewResponseController(w)
	if l.bodyTimeout > 0 {
		if err := rc.SetReadDeadline(time.Now().Add(l.bodyTimeout)); err == nil {
			defer rc.SetReadDeadline(time.Time{})
		} else if !errors.Is(err, http.ErrNotSupported) {
			return nil, err
		}
	}
	return io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
}

func tooMany(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "1")
	rest.WriteError(w, watch.NewStatusError(http.StatusTooManyRequests, watch.StatusReasonTooManyRequests, "too many requests, please try again later"))
}
