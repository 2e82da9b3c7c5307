import AppointmentsProto
import AppointmentsWire
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import AppointmentsServer

@Suite("OutboundQueue")
struct OutboundQueueTests {
  static func frame(_ id: UInt32) -> OutboundFrame {
    .reply(callID: id, Reply(message: V1.HealthResponse(), metadata: Metadata()))
  }

  /// The call ids of the frames in a batch the writer took.
  static func callIDs(_ batch: ByteBuffer) throws -> [UInt32] {
    try RawConnection.frames(in: Array(buffer: batch)).map(\.callID)
  }

  @Test("the writer takes everything queued at once, encoded, in order")
  func batches() async throws {
    let queue = OutboundQueue()
    for id in UInt32(1)...3 { queue.enqueue(Self.frame(id)) }
    var batch = ByteBuffer()
    #expect(await queue.next(swapping: &batch))
    #expect(try Self.callIDs(batch) == [1, 2, 3])
    // Taken is not written: the bytes count until the writer says so.
    #expect(queue.unwrittenBytes == batch.readableBytes)
    queue.written(batch.readableBytes)
    #expect(queue.unwrittenBytes == 0)
    queue.finish()
    batch.clear()
    #expect(await queue.next(swapping: &batch) == false)
  }

  @Test("an answer's header block and payload decode to what was queued, OK or not, with or without metadata")
  func answersDecode() async throws {
    let payload = V1.GoAway(lastCallID: 7, code: 0, message: "the payload")
    let retryAfter: Metadata = ["retry-after-ms": "250"]
    let refusal = RPCError(code: .notFound, reason: "DOCTOR_NOT_FOUND", message: "no such doctor")
    let answers: [(frame: (UInt32) -> OutboundFrame, header: V1.ResponseHeader, payload: V1.GoAway?)] = [
      // OK and no metadata: the block encoded once.
      ({ .reply(callID: $0, Reply(message: payload, metadata: Metadata())) }, V1.ResponseHeader(status: V1.Status(code: 0)), payload),
      ({ .reply(callID: $0, Reply(message: payload, metadata: retryAfter)) }, V1.ResponseHeader(status: V1.Status(code: 0), metadata: retryAfter.entries), payload),
      ({ .refusal(callID: $0, refusal) }, V1.ResponseHeader(status: V1.Status(code: 5, message: "no such doctor", reason: "DOCTOR_NOT_FOUND")), nil),
    ]
    let queue = OutboundQueue()
    for (index, answer) in answers.enumerated() {
      queue.enqueue(answer.frame(UInt32(index + 1)))
    }
    var batch = ByteBuffer()
    #expect(await queue.next(swapping: &batch))
    let frames = try RawConnection.frames(in: Array(buffer: batch))
    #expect(frames.map(\.callID) == [1, 2, 3])
    let arena = ProtoArena()
    for (frame, answer) in zip(frames, answers) {
      #expect(try V1.ResponseHeader(decoding: frame.header, arena: arena) == answer.header)
      if let expected = answer.payload {
        #expect(try V1.GoAway(decoding: frame.payload, arena: arena) == expected)
      } else {
        #expect(frame.payload.readableBytes == 0)
      }
    }
  }

  @Test("frames queued while the writer waits go out together once it runs, not the first alone")
  func wakingTakesEverything() async throws {
    let loop = MultiThreadedEventLoopGroup.singleton.next()
    let queue = OutboundQueue()
    // The writer runs on the loop, as in the server.
    let writer = Task(executorPreference: EventLoopTaskExecutor(loop)) {
      var batch = ByteBuffer()
      _ = await queue.next(swapping: &batch)
      return batch
    }
    while !queue.isWriterWaiting { await Task.yield() }
    // Three calls answer in one job of the loop; the writer, woken by the first, runs after it.
    try await loop.submit {
      for id in UInt32(1)...3 { queue.enqueue(Self.frame(id)) }
    }.get()
    #expect(try Self.callIDs(await writer.value) == [1, 2, 3])
    queue.finish()
    var rest = ByteBuffer()
    #expect(await queue.next(swapping: &rest) == false)
  }

  @Test("the reader waits while too many bytes are unwritten, and goes on once they are written")
  func backpressure() async throws {
    let queue = OutboundQueue()
    for id in UInt32(1)...3 { queue.enqueue(Self.frame(id)) }
    let queued = queue.unwrittenBytes
    let frameBytes = try RawConnection.frame(.response, callID: 1, header: V1.ResponseHeader(status: V1.Status(code: 0))).count
    #expect(queued == 3 * frameBytes)
    // The reader must wait until every byte is written, and says how many were unwritten.
    let pausedWith = Mutex<Int?>(nil)
    let reader = Task {
      await queue.waitForRoom(below: 1) { unwritten in pausedWith.withLock { $0 = unwritten } }
    }
    // Taken by the writer is not written yet, and one byte still is not: no room.
    var batch = ByteBuffer()
    #expect(await queue.next(swapping: &batch))
    while !queue.isReaderWaiting { await Task.yield() }
    #expect(pausedWith.withLock { $0 } == queued)
    queue.written(queued - 1)
    #expect(queue.isReaderWaiting)
    queue.written(1)
    #expect(await reader.value)
    // With room, waiting returns at once, without pausing.
    #expect(await queue.waitForRoom(below: 1) { _ in Issue.record("paused with room") } == false)
  }

  @Test("a finished queue never keeps the reader waiting")
  func finishReleasesTheReader() async {
    let queue = OutboundQueue()
    queue.enqueue(Self.frame(1))
    let reader = Task { await queue.waitForRoom(below: 1) }
    while !queue.isReaderWaiting { await Task.yield() }
    queue.finish()
    #expect(await reader.value)
    #expect(await queue.waitForRoom(below: 1) == false)
  }

  final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
  }
}
