import AppointmentsClient
import AppointmentsProto
import AppointmentsServer
import Foundation
import NIOCore
import Testing

@testable import AppointmentsServer

// One at a time: the tests count the process's poller threads.
@Suite("IdlePoller", .serialized)
struct IdlePollerTests {
  /// The scheduling policy and name of every thread of this process named `idle-poll-…`, except
  /// threads that are exiting: a joined thread may stay listed for a while after `pthread_join`
  /// returns (the kernel wakes the joiner before it removes the thread).
  static func pollerThreads() -> [(name: String, policy: Int)] {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    return tasks.compactMap { task in
      guard let name = try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8),
        name.hasPrefix("idle-poll-"),
        let stat = try? String(contentsOfFile: "/proc/self/task/\(task)/stat", encoding: .utf8)
      else { return nil }
      // Fields after the name in parentheses: `flags` is field 9 of proc_pid_stat(5), the 7th
      // after it, and `policy` field 41, the 39th. PF_EXITING is 0x4 (<linux/sched.h>).
      let fields = stat[stat.index(after: stat.lastIndex(of: ")")!)...].split(separator: " ")
      guard let flags = UInt(fields[6]), flags & 0x4 == 0 else { return nil }
      return (name.trimmingCharacters(in: .whitespacesAndNewlines), Int(fields[38]) ?? -1)
    }
  }

  @Test("pollers sleep until a read, spin for the window after it, then sleep again", .timeLimit(.minutes(1)))
  func window() async {
    let poller = IdlePoller(window: .milliseconds(200), threads: 2)
    await poller.waitUntilAllSleep()
    #expect(poller.isSleeping)
    let read = ContinuousClock.now
    poller.noteRead()
    #expect(!poller.isSleeping)
    await poller.waitUntilAllSleep()
    // Not before the window has passed: each poller counts it from its own wake-up, after the
    // read, in eighths of which the first may be partly gone.
    #expect(ContinuousClock.now - read >= .milliseconds(175))
    #expect(poller.isSleeping)
    await poller.stop()
  }

  #if os(Linux)
  @Test("pollers run at the lowest priority, one per thread asked for, and end when stopped", .timeLimit(.minutes(1)))
  func threads() async {
    let poller = IdlePoller(window: .milliseconds(20), threads: 3)
    await poller.waitUntilAllSleep()
    let threads = Self.pollerThreads()
    #expect(threads.map(\.name).sorted() == ["idle-poll-0", "idle-poll-1", "idle-poll-2"])
    // SCHED_IDLE is 5.
    #expect(threads.allSatisfy { $0.policy == 5 })
    await poller.stop()
    #expect(Self.pollerThreads().isEmpty)
  }

  @Test("a server with idle polling serves calls and ends its pollers when it stops", .timeLimit(.minutes(1)))
  func server() async throws {
    let info = try await TestServer.with(configure: { $0.network.idlePoll = .milliseconds(1) }) { server in
      // One poller per core, at SCHED_IDLE (5), while the server runs. They start beside the
      // listening socket, so they are waited for.
      await server.idlePollersStarted()
      let threads = Self.pollerThreads()
      #expect(threads.count == System.coreCount)
      #expect(threads.allSatisfy { $0.policy == 5 })
      let client = try await server.client()
      defer { Task { await client.close() } }
      return try await client.serverInfo()
    }
    #expect(info.protocolVersion == 1)
    #expect(Self.pollerThreads().isEmpty)
  }
  #endif
}
