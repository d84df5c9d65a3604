/// What the server advertises in its SETTINGS frame and how much it takes per connection.
package struct HTTP2Settings: Sendable, Equatable {
    /// SETTINGS_MAX_CONCURRENT_STREAMS: streams a client may have open at once; more are refused with
    /// RST_STREAM(REFUSED_STREAM), which tells the client the request was not processed and may be retried.
    package var maxConcurrentStreams: UInt32 = 128
    /// SETTINGS_INITIAL_WINDOW_SIZE: bytes a client may send on one stream before the server's
    /// WINDOW_UPDATE. Large enough that an upload is not stalled by round trips on a fast network.
    package var initialWindowSize: UInt32 = 1 << 20
    /// The connection-level receive window (WINDOW_UPDATE on stream 0 at the start): shared by all streams.
    package var connectionWindowSize: UInt32 = 16 << 20
    /// A header block (HEADERS and its CONTINUATION frames, compressed) longer than this, or split into more
    /// CONTINUATION frames than `maxContinuations`, ends the connection with ENHANCE_YOUR_CALM: a client
    /// with a real request needs neither, and decoding an endless block is how a CONTINUATION flood works.
    package var maxHeaderBlockBytes = 256 * 1024
    package var maxContinuations = 32
    /// A refused request's body (413 answered while it still arrives) is read and dropped up to this many
    /// bytes, then the stream is reset with NO_ERROR: clients see the answer, and nobody streams forever.
    package var maxDiscardedBodyBytes = 64 << 20

    package init() {}
}
