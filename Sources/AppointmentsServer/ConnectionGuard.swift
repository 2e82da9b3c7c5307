import NIOCore

/// Guards a connection before any frame is decoded: answers HTTP with a short 400, and closes
/// connections that are slow to send their first frame or to finish a frame they started, or
/// that stop reading what the server writes.
///
/// It follows frame boundaries from the length fields as bytes pass (it copies nothing), and
/// checks the clocks once a second with one repeated task per connection, so a slow connection
/// is closed within a second after its deadline. A slow connection has its input closed: the
/// connection then sends a GOAWAY for the calls it already accepted and closes. A connection
/// that has not been writable for the frame timeout — its client reads nothing, so the server
/// cannot write to it, and its unwritten answers and the calls waiting to write them are held —
/// is closed outright: no GOAWAY could reach it. Time is the event loop's (``EventLoop/now``), so
/// tests can move it.
final class ConnectionGuard: ChannelInboundHandler {
  typealias InboundIn = ByteBuffer
  typealias InboundOut = ByteBuffer

  private let firstFrameTimeout: TimeAmount
  private let frameTimeout: TimeAmount
  private var connectedAt = NIODeadline.uptimeNanoseconds(0)
  private var sawFirstByte = false
  /// Whether a whole frame has arrived yet (the first-frame deadline is met then).
  private var completedAFrame = false
  /// The length field being read (it may arrive split across reads).
  private var lengthBytesSeen = 0
  private var length: UInt32 = 0
  /// Bytes of the current frame still to come after its length field.
  private var remaining = 0
  private var frameStartedAt: NIODeadline?
  /// When the channel last stopped being writable, while it is not.
  private var unwritableSince: NIODeadline?
  /// Whether this guard closed the input of a slow sender.
  private var inputClosed = false
  private var check: RepeatedTask?

  init(firstFrameTimeout: TimeAmount, frameTimeout: TimeAmount) {
    self.firstFrameTimeout = firstFrameTimeout
    self.frameTimeout = frameTimeout
  }

  func handlerAdded(context: ChannelHandlerContext) {
    connectedAt = context.eventLoop.now
    let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
    check = context.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
      let (handler, context) = loopBound.value
      handler.checkDeadlines(context: context)
    }
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    check?.cancel()
    check = nil
  }

  func channelInactive(context: ChannelHandlerContext) {
    check?.cancel()
    check = nil
    context.fireChannelInactive()
  }

  func channelWritabilityChanged(context: ChannelHandlerContext) {
    if context.channel.isWritable {
      unwritableSince = nil
    } else if unwritableSince == nil {
      unwritableSince = context.eventLoop.now
    }
    context.fireChannelWritabilityChanged()
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let buffer = unwrapInboundIn(data)
    if !sawFirstByte, let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) {
      sawFirstByte = true
      // A frame's first byte is the top byte of its length: an upper-case letter would mean a
      // frame of over 1 GiB, so this is a text protocol, almost surely HTTP.
      if (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(first) {
        refuseHTTP(context: context)
        return
      }
    }
    track(buffer, context: context)
    context.fireChannelRead(data)
  }

  /// Advances the frame-boundary tracking over `buffer`'s readable bytes.
  ///
  /// It works on local copies of the tracking state and on the bytes in place: each use of a
  /// handler's stored property, and each of NIO's reads from a buffer, is checked for exclusive
  /// access on its own.
  private func track(_ buffer: ByteBuffer, context: ChannelHandlerContext) {
    var lengthBytesSeen = self.lengthBytesSeen
    var length = self.length
    var remaining = self.remaining
    var finishedAFrame = false
    // Only a frame still unfinished at the end of the buffer needs its start time: the clock is
    // read once then, not once per frame of a pipelined burst.
    var unfinishedStartedHere = false
    buffer.withUnsafeReadableBytes { bytes in
      var index = 0
      while index < bytes.count {
        if remaining == 0 {
          if lengthBytesSeen == 0 { unfinishedStartedHere = true }
          length = length << 8 | UInt32(bytes[index])
          lengthBytesSeen += 1
          index += 1
          if lengthBytesSeen == 4 {
            remaining = Int(length)
            lengthBytesSeen = 0
            length = 0
          }
        } else {
          let take = min(remaining, bytes.count - index)
          remaining -= take
          index += take
        }
        if remaining == 0, lengthBytesSeen == 0 {
          finishedAFrame = true
          unfinishedStartedHere = false
        }
      }
    }
    self.lengthBytesSeen = lengthBytesSeen
    self.length = length
    self.remaining = remaining
    if finishedAFrame {
      completedAFrame = true
      frameStartedAt = nil
    }
    if unfinishedStartedHere { frameStartedAt = context.eventLoop.now }
  }

  private func checkDeadlines(context: ChannelHandlerContext) {
    let now = context.eventLoop.now
    if let since = unwritableSince, now - since > frameTimeout {
      check?.cancel()
      check = nil
      context.close(promise: nil)
      return
    }
    // Once its input is closed, a connection is only watched for writes that cannot go out.
    guard !inputClosed else { return }
    let slowStart = !completedAFrame && now - connectedAt > firstFrameTimeout
    let slowFrame = frameStartedAt.map { now - $0 > frameTimeout } ?? false
    guard slowStart || slowFrame else { return }
    inputClosed = true
    context.close(mode: .input, promise: nil)
  }

  private func refuseHTTP(context: ChannelHandlerContext) {
    let body = "This port speaks the Appointments binary protocol (length-prefixed protobuf frames, see docs/PROTOCOL.md), not HTTP.\n"
    let response = "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
    context.writeAndFlush(NIOAny(ByteBuffer(string: response)), promise: nil)
    context.close(promise: nil)
  }
}
