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
    .response(callID: id, header: V1.ResponseHeader(), payload: nil)
  }

  @Test("the writer takes everything queued at once, in order")
  func batches() async {
    let queue = OutboundQueue()
    for id in UInt32(1)...3 { queue.enqueue(Self.frame(id)) }
    let batch = await queue.next() ?? []
    let ids: [UInt32] = batch.compactMap { if case .response(let id, _, _) = $0 { id } else { nil } }
    #expect(ids == [1, 2, 3])
    queue.finish()
    #expect(await queue.next() == nil)
  }

  @Test("frames queued while the writer waits go out together once it runs, not the first alone")
  func wakingTakesEverything() async throws {
    let loop = MultiThreadedEventLoopGroup.singleton.next()
    let queue = OutboundQueue()
    // The writer runs on the loop, as in the server.
    let writer = Task(executorPreference: EventLoopTaskExecutor(loop)) { await queue.next() ?? [] }
    while !queue.isWriterWaiting { await Task.yield() }
    // Three calls answer in one job of the loop; the writer, woken by the first, runs after it.
    try await loop.submit {
      for id in UInt32(1)...3 { queue.enqueue(Self.frame(id)) }
    }.get()
    let batch = await writer.value
    let ids: [UInt32] = batch.compactMap { if case .response(let id, _, _) = $0 { id } else { nil } }
    #expect(ids == [1, 2, 3])
    queue.finish()
    #expect(await queue.next() == nil)
  }

  @Test("the reader waits while too many frames are unwritten, and goes on once they are written")
  func backpressure() async {
    let queue = OutboundQueue()
    for id in UInt32(1)...3 { queue.enqueue(Self.frame(id)) }
    let resumed = Flag()
    let reader = Task {
      await queue.waitForRoom(below: 1)
      resumed.set()
    }
    // Taken by the writer is not written yet, and one frame still is not: no room.
    let batch = await queue.next() ?? []
    #expect(batch.count == 3)
    while !queue.isReaderWaiting { await Task.yield() }
    queue.written(2)
    #expect(!resumed.isSet)
    #expect(queue.isReaderWaiting)
    queue.written(1)
    await reader.value
    #expect(resumed.isSet)
    // With room, waiting returns at once.
    await queue.waitForRoom(below: 1)
  }

  final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
  }
}
