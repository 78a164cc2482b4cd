// Package watch defines setpoint's watch events and revision-ordered streams,
// the Broadcaster that fans one upstream watch out to many subscribers (the
// machinery of store's watch cache), and the one Kubernetes wire encoding of
// watch events and of Status objects, which setpoint's REST server and
// client both use.
//
// # Contract
//
// A Watcher delivers events in revision order, none skipped and none
// repeated, or the stream ends with an error. Revisions are strictly
// increasing, except that a Bookmark may repeat the revision of the event
// before it. When the Events channel closes, Err says why, and is never nil:
//
//   - ErrGone (for example a *GoneError, or a *StatusError with code 410):
//     the start revision was compacted, or fell out of a broadcaster's
//     window, or the broadcaster's own source was compacted past it. The
//     caller must relist and watch again from the list's revision.
//   - ErrTooSlow: the consumer stopped keeping up (it took no event while
//     its budget's worth more arrived, in events or bytes, or fell out of a
//     broadcaster's window) and was cut off rather than buffered without
//     bound. Every event before the cut is delivered; the caller watches
//     again after the last revision it processed (relisting if that fails
//     with ErrGone).
//   - ErrStopped: the consumer called Stop.
//   - ErrClosed: the source shut down (a broadcaster whose Run ended).
//   - the context's error, when the watch's context ended.
//
// # Broadcaster
//
// A Broadcaster reads one Source and keeps its last Window events, at most
// WindowBytes of them by weight (see Sizer), in a shared ring. The window is
// complete from a revision W on (Broadcaster.Window): a subscriber may start
// after any revision >= W, even though revisions are not contiguous (etcd
// revisions are global across keys); an older start fails with a *GoneError
// naming W. Each subscriber has its own goroutine and position in the ring,
// so a slow one never delays the others or the source; SubscribeMap lets
// each convert and filter the shared events in that goroutine. Memory stays
// within the window plus each subscriber's channel (at most 128 events): a
// subscriber is cut off (ErrTooSlow) when events it has not taken leave the
// window, or when it takes nothing while SubscriberBuffer events or
// SubscriberBytes arrive. When the
// source stream breaks, the broadcaster reopens it after the last revision
// it has seen (backing off on its Clock); when the source reports ErrGone,
// Run ends every subscriber with that error and returns it. Outbox bounds,
// in bytes, a producer that cannot be paced (such as an etcd watch).
//
// # Wire encoding
//
// Events travel as one JSON object per line, as Kubernetes watch streams do:
//
//	{"type":"ADDED","object":{"kind":"Pod","metadata":{"name":"a","resourceVersion":"12"}}}
//	{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"15"}}}
//	{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"...","reason":"Expired","code":410}}
//
// An event's revision is its object's metadata.resourceVersion. Encoder
// writes this format: objects that are already encoded (an *Encoded, whose
// encoding is computed once and shared by every watcher of an event, or a
// json.RawMessage) are written as they are; the bookmark that ends a
// watch's initial events carries the k8s.io/initial-events-end annotation
// (Encoder.Bookmark); an ERROR carries a Status. Decoder reads the format
// and rejects a malformed line with a *DecodeError naming the line and what
// was wrong (WireEvent.InitialEventsEnd reports the annotation);
// DecodeEvent turns a line into a typed Event, an ERROR's Status into a
// *StatusError that maps a 410 to ErrGone. EncodeStream serves a Watcher
// over an http.ResponseWriter (ending with an ERROR event when the watch
// fails) and DecodeStream turns a response body back into a Watcher.
//
// Status is Kubernetes' meta/v1 Status, with details and causes: setpoint's
// one Status type, the body of every error response of the REST server.
package watch
