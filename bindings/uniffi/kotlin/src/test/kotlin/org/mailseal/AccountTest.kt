package org.mailseal

import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import org.junit.jupiter.api.Test

/** Asks like a dialog would: suspends, then answers from the enrollment. */
class Dialog(private val enrollment: TotpEnrollment?) : CodeProvider {
    val asked = mutableListOf<String>()

    override suspend fun totpCode(user: String): String? {
        delay(10)
        asked.add(user)
        return enrollment?.codeAt((System.currentTimeMillis() / 1000).toULong())
    }
}

class AccountTest {
    private fun now(): ULong = (System.currentTimeMillis() / 1000).toULong()

    @Test
    fun `two-factor sign-in asks a Kotlin callback inside runBlocking`() = runBlocking {
        TestServer().use { server ->
            val alice = AccountSession.connectPassword(server.url, ALICE, ALICE_PASSWORD, null)
            assertEquals(ALICE, alice.user())
            assertEquals("password", alice.signInMethod())
            assertFalse(alice.totpEnabled())

            val enrollment = alice.newTotpEnrollment("Example")
            assertTrue(enrollment.otpauthUrl().startsWith("otpauth://totp/"))
            alice.enableTotp(ALICE_PASSWORD, enrollment, enrollment.codeAt(now()), null)
            assertEquals("oauth", alice.signInMethod())
            assertTrue(alice.totpEnabled())

            val refused = assertFailsWith<ApiException.Authentication> {
                AccountSession.connectPassword(server.url, ALICE, ALICE_PASSWORD, null)
            }
            assertEquals("jmap.totp_required", refused.code)

            val dialog = Dialog(enrollment)
            val again = AccountSession.connectWithCode(server.url, ALICE, ALICE_PASSWORD, dialog, null)
            assertEquals(listOf(ALICE), dialog.asked)
            assertEquals("oauth", again.signInMethod())
            val tokens = assertNotNull(again.tokens())
            assertEquals(ALICE, tokens.user())
            val restored = AccountSession.connectTokens(server.url, OAuthTokens.fromJson(tokens.toJson()), null)
            assertTrue(restored.totpEnabled())

            val gaveUp = assertFailsWith<ApiException> {
                AccountSession.connectWithCode(server.url, ALICE, ALICE_PASSWORD, Dialog(null), null)
            }
            assertTrue(gaveUp.stableCode.startsWith("jmap."), gaveUp.stableCode)
        }
    }

    @Test
    fun `encryption at rest, app passwords and errors with stable codes`() = runBlocking {
        TestServer().use { server ->
            val options = ConnectOptions(timeoutSeconds = 20u)
            val alice = AccountSession.connectPassword(server.url, ALICE, ALICE_PASSWORD, options)
            val availability = alice.availability()
            assertFalse(availability.serverTooOld)
            assertTrue(availability.features.all { it.available })

            val refused = assertFailsWith<ApiException.InvalidKey> {
                alice.enableEncryption(example("keys/alice.key.pem"), EncryptionOptions())
            }
            assertEquals("key.private_key", refused.code)
            assertFalse(alice.encryptionSettings().enabled)

            val done = alice.enableEncryption(
                example("keys/alice.crt.pem"),
                EncryptionOptions(algorithm = Algorithm.AES128),
            )
            assertTrue(done.inspection.usableByServer)
            val settings = alice.encryptionSettings()
            assertTrue(settings.enabled)
            assertEquals("aes128", settings.algorithm)
            assertEquals(done.keyId, assertNotNull(settings.key).id)

            val created = alice.createAppPassword("Thunderbird", null, listOf("127.0.0.1"))
            assertTrue(created.secret().isNotEmpty())
            alice.renameAppPassword(created.id(), "Thunderbird at home")
            val listed = alice.listAppPasswords().single()
            assertEquals("Thunderbird at home", listed.description)
            assertEquals(listOf("127.0.0.1"), listed.allowedIps)
            alice.revokeAppPassword(created.id())
            assertTrue(alice.listAppPasswords().isEmpty())

            val wrong = assertFailsWith<ApiException.Authentication> {
                alice.changePassword("not the password", "a-brand-new Passphrase for alice 42", null)
            }
            assertEquals("jmap.wrong_password", wrong.code)

            assertNotNull(alice.disableEncryption(false))
            assertFalse(alice.encryptionSettings().enabled)
            assertNull(alice.tokens())
        }
    }

    @Test
    fun `the same calls on a Stalwart 0_15 server go through its REST API`() = runBlocking {
        TestServer("0.15").use { server ->
            val alice = AccountSession.connectPassword(server.url, ALICE, ALICE_PASSWORD, null)
            assertEquals("rest", alice.serverApi())
            assertEquals("0.15.5", alice.serverVersion())
            assertTrue(assertNotNull(alice.passwordChangeWarning()).contains("app password"))
            val availability = alice.availability()
            assertFalse(availability.serverTooOld)
            assertFalse(availability.features.single { it.feature == "api_keys" }.available)

            val created = alice.createAppPassword("Thunderbird", null, emptyList())
            assertEquals("Thunderbird", alice.listAppPasswords().single().description)
            alice.revokeAppPassword(created.id())
            assertTrue(alice.listAppPasswords().isEmpty())
            val noKeys = assertFailsWith<ApiException.NotAvailable> {
                alice.createApiKey("backup", null, emptyList())
            }
            assertEquals("jmap.not_available", noKeys.code)

            alice.enableEncryption(example("keys/alice.crt.pem"), EncryptionOptions(algorithm = Algorithm.AES128))
            assertEquals("aes128", alice.encryptionSettings().algorithm)
            alice.disableEncryption(false)
            assertFalse(alice.encryptionSettings().enabled)
        }
        TestServer().use { server ->
            val alice = AccountSession.connectPassword(server.url, ALICE, ALICE_PASSWORD, null)
            assertEquals("jmap", alice.serverApi())
            assertNull(alice.serverVersion())
        }
    }

    @Test
    fun `a server that is not there is a transport error, not a hang`() = runBlocking {
        val e = assertFailsWith<ApiException.Transport> {
            AccountSession.connectPassword("http://127.0.0.1:9", ALICE, ALICE_PASSWORD, ConnectOptions(timeoutSeconds = 5u))
        }
        assertTrue(e.code.startsWith("jmap."), e.code)
    }
}
