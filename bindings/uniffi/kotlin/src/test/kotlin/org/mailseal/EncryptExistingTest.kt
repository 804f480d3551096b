package org.mailseal

import java.nio.file.Files
import java.util.Collections
import kotlinx.coroutines.runBlocking
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertTrue
import org.junit.jupiter.api.Test

/** Keeps every snapshot and the threads it was told on. */
class Recorder : ProgressListener {
    val seen: MutableList<Progress> = Collections.synchronizedList(mutableListOf())
    val threads: MutableSet<Long> = Collections.synchronizedSet(mutableSetOf())

    override fun onProgress(progress: Progress) {
        threads.add(Thread.currentThread().id)
        seen.add(progress)
    }
}

/**
 * Encrypting the mail already in the account from Kotlin. The test server binary cannot be
 * given messages from outside yet, so these cover the refusals and a dry run of an empty
 * account (the job itself is tested in Rust, mailseal-jmap's tests/encrypt_existing.rs).
 */
class EncryptExistingTest {
    private fun state(): String {
        val dir = Files.createTempDirectory("mailseal-state").toFile()
        dir.deleteOnExit()
        return dir.resolve("state.json").path
    }

    @Test
    fun `refused with a stable code while encryption at rest is off`() = runBlocking {
        TestServer().use { server ->
            val alice = AccountSession.connectPassword(server.url, ALICE, ALICE_PASSWORD, null)
            val path = state()
            val refused = assertFailsWith<ApiException.NotAvailable> {
                alice.encryptExisting(path, EncryptExistingOptions(), null)
            }
            assertEquals("jmap.not_available", refused.code)
            assertFalse(java.io.File(path).exists())
        }
    }

    @Test
    fun `a dry run reports the plan and tells a listener on another thread`() = runBlocking {
        TestServer().use { server ->
            val alice = AccountSession.connectPassword(server.url, ALICE, ALICE_PASSWORD, null)
            alice.enableEncryption(example("keys/alice.crt.pem"), EncryptionOptions())
            val recorder = Recorder()
            val report = alice.encryptExisting(state(), EncryptExistingOptions(dryRun = true), recorder)
            assertTrue(report.dryRun)
            assertTrue(report.complete)
            assertEquals(0uL, report.examined)
            assertTrue(report.planned.isEmpty())
            assertEquals(Phase.FINISHED, recorder.seen.last().phase)
            assertFalse(Thread.currentThread().id in recorder.threads)

            val badFile = state()
            java.io.File(badFile).writeText("not json")
            val refused = assertFailsWith<ApiException.InvalidInput> {
                alice.encryptExisting(badFile, EncryptExistingOptions(dryRun = true), null)
            }
            assertEquals("jmap.state_file", refused.code)
            val badKey = assertFailsWith<ApiException.Decryption> {
                alice.encryptExisting(state(), EncryptExistingOptions(verifyKey = "not a key".toByteArray()), null)
            }
            assertEquals("decrypt.private_key", badKey.code)
        }
    }
}
