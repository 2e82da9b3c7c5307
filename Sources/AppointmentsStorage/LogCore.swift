import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The state shared by appenders, waiters and the writer thread (or, in `none` mode, the
/// callers that write inline: the first waiter of a burst, or the append that fills a batch).
final class LogCore: Sendable {
  /// Waits for `sequence`: a suspended task or a callback (``whenDurable(through:_:)``).
  struct Waiter {
    var sequence: UInt64
    var completion: @Sendable (Result<Void, StorageError>) -> Void
  }

  struct State {
    var nextSequence: UInt64
    var durableSequence: UInt64
    /// Records appended and not yet taken by the writer, numbered consecutively.
    var queue: [(sequence: UInt64, payload: [UInt8])] = []
    /// How many records at the front of ``queue`` the writer may take: the queue up to the
    /// first held record.
    var writableCount = 0
    /// Sequence numbers of held records (see ``WriteAheadLog/appendHeld(_:)``).
    var held: Set<UInt64> = []
    /// `none` mode: bytes appended since the last inline write.
    var unwrittenBytes = 0
    /// `none` mode: a caller is writing a batch, outside the lock; it writes what becomes due
    /// meanwhile before it stops, so no other caller writes.
    var isWritingInline = false
    var failure: StorageError?
    var isClosing = false
    var hasStopped = false
    var closeError: StorageError?
    var writerIsIdle = false
    var waiters: [Waiter] = []
    var closeWaiters: [CheckedContinuation<Void, Never>] = []
    var statistics = WriteAheadLog.Statistics()
  }

  /// What records becoming writable leaves to do once the lock is released.
  private struct Followup {
    /// Fsync mode: the writer thread sleeps and must be woken.
    var wakesWriter = false
    /// None mode: records this caller took to write itself, after the lock.
    var batch: [(sequence: UInt64, payload: [UInt8])] = []
    /// None mode: the waiters the inline write completed, its failure, and the callers of
    /// ``close()`` when the write closed the segment.
    var ready: [Waiter] = []
    var failure: StorageError?
    var closeWaiters: [CheckedContinuation<Void, Never>] = []

    func run(_ core: LogCore) {
      if self.wakesWriter { core.wakeWriter.signal() }
      if !self.batch.isEmpty { core.writeInline(self.batch) }
      for waiter in self.ready {
        waiter.completion(.success(()))
      }
      if let failure = self.failure { core.fail(failure) }
      for waiter in self.closeWaiters {
        waiter.resume()
      }
    }
  }

  let state: Mutex<State>
  /// Wakes the writer thread when it sleeps.
  private let wakeWriter = DispatchSemaphore(value: 0)
  /// In `none` mode, the segment that callers write to themselves: a write to the operating
  /// system takes microseconds, less than handing the records to a thread and being woken by it.
  /// The first caller to wait for a record writes everything writable
  /// (``waitUntilDurable(through:)``), so the calls answered together share one write; records
  /// nobody waits for are written once they add up to ``WriteAheadLog/noneModeBatchBytes``, or
  /// on close. The write happens outside the lock, so appending never waits for it; one caller
  /// writes at a time, and it writes what became due meanwhile before it stops. Nil in `fsync`
  /// mode, where the writer thread writes and syncs.
  private let inlineWriter: SegmentWriter?

  /// - Parameter inlineWriter: the segment to write inline (`none` mode); nil when a writer
  ///   thread runs ``runWriter(_:)``.
  init(lastSequence: UInt64, inlineWriter: SegmentWriter? = nil) {
    self.state = Mutex(State(nextSequence: lastSequence + 1, durableSequence: lastSequence))
    self.inlineWriter = inlineWriter
  }

  /// Numbers and queues a record; a held record is not written before ``release(_:payload:)``.
  func append(payload: [UInt8], held: Bool = false) -> WriteAheadLog.Ticket {
    let outcome = self.state.withLock { state -> Result<(UInt64, Bool, Followup), StorageError> in
      if let failure = state.failure { return .failure(failure) }
      if state.isClosing {
        return .failure(StorageError(code: .logClosed, message: "the write-ahead log is closed"))
      }
      let sequence = state.nextSequence
      state.nextSequence += 1
      state.queue.append((sequence, payload))
      if self.inlineWriter != nil { state.unwrittenBytes += payload.count }
      state.statistics.appendedRecords += 1
      if held {
        state.held.insert(sequence)
        return .success((sequence, false, Followup()))
      }
      guard state.held.isEmpty else {
        // Behind a held record: written with it.
        return .success((sequence, false, Followup()))
      }
      state.writableCount = state.queue.count
      let followup = self.recordsBecameWritable(&state)
      return .success((sequence, state.durableSequence >= sequence, followup))
    }
    switch outcome {
    case .success(let (sequence, isDurable, followup)):
      followup.run(self)
      return WriteAheadLog.Ticket(sequence: sequence, isDurable: isDurable, core: self)
    case .failure(let refusal):
      return WriteAheadLog.Ticket(refusal: refusal)
    }
  }

  /// Called under the lock once records became writable: wakes the writer thread, or in `none`
  /// mode takes them for this caller to write after the lock when someone waits for them, the
  /// log closes, or a batch's worth piled up; returns what is left to do after the lock.
  private func recordsBecameWritable(_ state: inout State) -> Followup {
    guard self.inlineWriter != nil else {
      defer { state.writerIsIdle = false }
      return Followup(wakesWriter: state.writerIsIdle)
    }
    guard Self.isInlineWriteDue(state) else { return Followup() }
    return Followup(batch: Self.takeInlineBatch(&state))
  }

  /// `none` mode: whether the writable records should be written now.
  private static func isInlineWriteDue(_ state: State) -> Bool {
    !state.waiters.isEmpty || state.isClosing || state.unwrittenBytes >= WriteAheadLog.noneModeBatchBytes
  }

  /// `none` mode, under the lock: takes the writable records for the caller to write after the
  /// lock (``writeInline(_:)``); none while another caller writes, which takes them next.
  private static func takeInlineBatch(_ state: inout State) -> [(sequence: UInt64, payload: [UInt8])] {
    guard !state.isWritingInline, state.failure == nil, state.writableCount > 0 else { return [] }
    state.isWritingInline = true
    let batch: [(sequence: UInt64, payload: [UInt8])]
    if state.writableCount == state.queue.count {
      batch = state.queue
      state.queue = []
      state.unwrittenBytes = 0
    } else {
      batch = Array(state.queue.prefix(state.writableCount))
      state.queue.removeFirst(state.writableCount)
      state.unwrittenBytes = state.queue.reduce(0) { $0 + $1.payload.count }
    }
    state.writableCount = 0
    return batch
  }

  /// `none` mode, after the lock: writes `batch`, completes its waiters, and goes on with what
  /// became due meanwhile. A failed write fails the log before any later record is written.
  private func writeInline(_ batch: [(sequence: UInt64, payload: [UInt8])]) {
    guard let writer = self.inlineWriter else { return }
    var batch = batch
    while !batch.isEmpty {
      let written = Result { () throws(StorageError) in try writer.write(batch) }
      let durable = batch[batch.count - 1].sequence
      var followup = self.state.withLock { state -> Followup in
        var followup = Followup()
        switch written {
        case .success(let bytes):
          // A failure declared meanwhile (``fail(_:)``) already failed these records' waiters.
          if state.failure == nil {
            state.durableSequence = durable
            state.statistics.writtenBatches += 1
            state.statistics.writtenBytes += UInt64(bytes)
            if !state.waiters.isEmpty {
              followup.ready = state.waiters.filter { $0.sequence <= durable }
              state.waiters.removeAll { $0.sequence <= durable }
            }
          }
        case .failure(let error):
          Self.markFailed(&state, error)
          followup.failure = error
        }
        state.isWritingInline = false
        if Self.isInlineWriteDue(state) {
          followup.batch = Self.takeInlineBatch(&state)
        }
        if followup.batch.isEmpty {
          self.stopInlineIfDrained(&state, into: &followup)
        }
        return followup
      }
      batch = followup.batch
      followup.batch = []
      followup.run(self)
    }
  }

  /// `none` mode, closing: once nothing is left to write (or the log failed), closes the segment
  /// and hands the callers of ``close()`` to `followup`.
  private func stopInlineIfDrained(_ state: inout State, into followup: inout Followup) {
    guard let writer = self.inlineWriter, state.isClosing, !state.hasStopped, !state.isWritingInline,
      state.queue.isEmpty || state.failure != nil
    else { return }
    // Synced unless the log failed.
    do throws(StorageError) {
      try writer.finish(syncing: state.failure == nil)
    } catch {
      state.closeError = error
    }
    state.hasStopped = true
    followup.closeWaiters = state.closeWaiters
    state.closeWaiters = []
  }

  /// Lets the writer take held record `sequence`, with `payload` in place of the one appended
  /// when it is not nil. Does nothing when the record is not held (the log failed meanwhile).
  func release(_ sequence: UInt64, payload: [UInt8]?) {
    let followup = self.state.withLock { state -> Followup in
      guard state.held.remove(sequence) != nil, let first = state.queue.first?.sequence else { return Followup() }
      if let payload {
        if self.inlineWriter != nil {
          state.unwrittenBytes += payload.count - state.queue[Int(sequence - first)].payload.count
        }
        state.queue[Int(sequence - first)].payload = payload
      }
      let firstHeld = state.held.min().map { Int($0 - first) }
      let writable = firstHeld ?? state.queue.count
      guard writable > state.writableCount else { return Followup() }
      state.writableCount = writable
      return self.recordsBecameWritable(&state)
    }
    followup.run(self)
  }

  func waitUntilDurable(through sequence: UInt64) async throws(StorageError) {
    // The quick check is synchronous so that the usual call (durable, or written right here in
    // `none` mode) allocates no frame for the waiting below: a frame past the first slab of a
    // call's task costs a malloc.
    if try self.isDurable(through: sequence) { return }
    let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, StorageError>, Never>) in
      self.waitForWriter(through: sequence) { continuation.resume(returning: $0) }
    }
    try result.get()
  }

  /// Calls `completion` once every record up to `sequence` is durable, or with the log's failure:
  /// at once when that is known without waiting (in `none` mode after writing them, when they
  /// are writable), otherwise on the thread that completes them.
  func whenDurable(through sequence: UInt64, _ completion: @escaping @Sendable (Result<Void, StorageError>) -> Void) {
    do {
      if try self.isDurable(through: sequence) { return completion(.success(())) }
    } catch {
      return completion(.failure(error))
    }
    self.waitForWriter(through: sequence, completion)
  }

  /// Whether every record up to `sequence` is durable; in `none` mode, writes them first when they
  /// are writable. Throws the log's failure.
  func isDurable(through sequence: UInt64) throws(StorageError) -> Bool {
    let (durable, failure, followup) = self.state.withLock { state -> (Bool, StorageError?, Followup) in
      var followup = Followup()
      if self.inlineWriter != nil, state.durableSequence < sequence, state.writableCount > 0,
        state.queue[state.writableCount - 1].sequence >= sequence
      {
        // `none` mode: the record is writable and waits for a waiter; write it now (unless
        // another caller is writing: then ``waitForWriter(through:_:)`` waits for that one).
        followup.batch = Self.takeInlineBatch(&state)
      }
      return (state.durableSequence >= sequence, state.failure, followup)
    }
    followup.run(self)
    if durable { return true }
    if !followup.batch.isEmpty {
      // Written just now, outside the lock.
      return try self.isDurable(through: sequence)
    }
    if let failure { throw failure }
    return false
  }

  /// Queues `completion` for the writer, unless the record became durable or the log failed
  /// since the last look: then calls it at once.
  func waitForWriter(through sequence: UInt64, _ completion: @escaping @Sendable (Result<Void, StorageError>) -> Void) {
    let (known, followup) = self.state.withLock { state -> (Result<Void, StorageError>?, Followup) in
      if state.durableSequence >= sequence { return (.success(()), Followup()) }
      if let failure = state.failure { return (.failure(failure), Followup()) }
      state.waiters.append(Waiter(sequence: sequence, completion: completion))
      // `none` mode: the caller that was writing may have stopped since the last look.
      guard self.inlineWriter != nil else { return (nil, Followup()) }
      return (nil, Followup(batch: Self.takeInlineBatch(&state)))
    }
    if let known { completion(known) }
    followup.run(self)
  }

  /// Puts the state in the failed state, unless it already is: from then on nothing is
  /// appended or written.
  private static func markFailed(_ state: inout State, _ error: StorageError) {
    guard state.failure == nil else { return }
    state.failure = StorageError(
      code: .logFailed,
      message: "the write-ahead log failed and acknowledges nothing more: \(error.message)",
      path: error.path,
      offset: error.offset,
      errorNumber: error.errorNumber,
      cause: error
    )
  }

  /// Puts the log in the failed state (the first failure wins) and fails every waiter; returns
  /// the failure as tickets report it.
  @discardableResult
  func fail(_ error: StorageError) -> StorageError {
    let (failure, waiters, followup) = self.state.withLock { state in
      Self.markFailed(&state, error)
      state.queue = []
      state.writableCount = 0
      state.unwrittenBytes = 0
      state.held = []
      let waiters = state.waiters
      state.waiters = []
      var followup = Followup(wakesWriter: state.writerIsIdle)
      state.writerIsIdle = false
      self.stopInlineIfDrained(&state, into: &followup)
      return (state.failure!, waiters, followup)
    }
    for waiter in waiters {
      waiter.completion(.failure(failure))
    }
    followup.run(self)
    return failure
  }

  func requestClose() {
    let followup = self.state.withLock { state in
      state.isClosing = true
      var followup = Followup(wakesWriter: state.writerIsIdle)
      state.writerIsIdle = false
      if self.inlineWriter != nil {
        // `none` mode: writes what is left (or the caller writing now does), then closes the
        // segment; with held records still queued, the write that empties the queue closes it.
        followup.batch = Self.takeInlineBatch(&state)
      }
      if followup.batch.isEmpty { self.stopInlineIfDrained(&state, into: &followup) }
      return followup
    }
    followup.run(self)
  }

  func close() async throws(StorageError) {
    self.requestClose()
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      let stopped = self.state.withLock { state in
        if !state.hasStopped { state.closeWaiters.append(continuation) }
        return state.hasStopped
      }
      if stopped { continuation.resume() }
    }
    let error = self.state.withLock { $0.failure ?? $0.closeError }
    if let error { throw error }
  }

  // MARK: Writer thread

  private enum Step {
    case write([(sequence: UInt64, payload: [UInt8])])
    case yield
    case sleep
    case stop(failed: Bool)
  }

  /// How many times the writer yields its core, looking for records, before it sleeps.
  ///
  /// Under load the next records arrive within microseconds of a batch's `fsync`; a writer that
  /// slept would have to be woken for them (a futex wake-up, tens of µs in a VM) and the calls
  /// waiting on the next batch would wait that much longer. Measured in alternating rounds of
  /// `book` `fsync` (docs/BENCHMARKS-HISTORY.md, Fifth session): 8 × 64 +13 % calls/s and less
  /// server CPU per call; 1 × 1 p50 20–50 µs lower but ~100 µs more CPU per call, the yielding
  /// (which gives way to any runnable thread). An idle server yields 200 times after its last
  /// batch, then sleeps.
  static let yieldsBeforeSleeping = 200

  /// The writer thread's loop: take everything queued, write it, sync it, complete it.
  func runWriter(_ writer: SegmentWriter) {
    var yields = 0
    while true {
      let step = self.state.withLock { state -> Step in
        if state.failure != nil { return .stop(failed: true) }
        if state.writableCount == state.queue.count, !state.queue.isEmpty {
          defer {
            state.queue = []
            state.writableCount = 0
          }
          return .write(state.queue)
        }
        if state.writableCount > 0 {
          defer {
            state.queue.removeFirst(state.writableCount)
            state.writableCount = 0
          }
          return .write(Array(state.queue.prefix(state.writableCount)))
        }
        // Closing waits for held records: their calls are still finishing.
        if state.isClosing && state.queue.isEmpty { return .stop(failed: false) }
        if yields < Self.yieldsBeforeSleeping { return .yield }
        state.writerIsIdle = true
        return .sleep
      }
      switch step {
      case .yield:
        yields += 1
        sched_yield()
      case .sleep:
        yields = 0
        self.wakeWriter.wait()
      case .write(let batch):
        yields = 0
        do throws(StorageError) {
          let bytes = try writer.write(batch)
          self.complete(through: batch[batch.count - 1].sequence, bytes: bytes)
        } catch {
          self.fail(error)
        }
      case .stop(let failed):
        var closeError: StorageError?
        do throws(StorageError) {
          try writer.finish(syncing: !failed)
        } catch {
          closeError = error
        }
        let closeWaiters = self.state.withLock { state in
          state.hasStopped = true
          state.closeError = closeError
          defer { state.closeWaiters = [] }
          return state.closeWaiters
        }
        for waiter in closeWaiters {
          waiter.resume()
        }
        return
      }
    }
  }

  private func complete(through sequence: UInt64, bytes: Int) {
    let ready = self.state.withLock { state -> [Waiter] in
      state.durableSequence = sequence
      state.statistics.writtenBatches += 1
      state.statistics.writtenBytes += UInt64(bytes)
      guard !state.waiters.isEmpty else { return [] }
      if state.waiters.allSatisfy({ $0.sequence <= sequence }) {
        defer { state.waiters = [] }
        return state.waiters
      }
      let ready = state.waiters.filter { $0.sequence <= sequence }
      state.waiters.removeAll { $0.sequence <= sequence }
      return ready
    }
    for waiter in ready {
      waiter.completion(.success(()))
    }
  }
}
