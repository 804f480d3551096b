package org.mailseal

import java.io.File
import kotlin.io.path.createTempDirectory
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import org.junit.jupiter.api.Test

class KeysTest {
    private val hello = example("messages/hello.eml")

    @Test
    fun `a usable key is usable for mailseal and the server`() {
        val info = inspectKey(example("keys/alice.pub.asc"), null, null)
        assertEquals(KeyFormat.OPEN_PGP, info.format)
        assertTrue(info.usable)
        assertTrue(info.usableByServer)
        assertEquals(listOf("5D0FF481F8F86AF58893C65388E4B12B1581017E"), info.fingerprints)
    }

    @Test
    fun `an unusable key says why`() {
        val cert = example("keys/alice.crt.pem")
        val now = inspectKey(cert, null, null)
        val expires = assertNotNull(now.expires)
        val later = inspectKey(cert, null, expires + 86_400)
        assertFalse(later.usable)
        assertTrue(later.problems.any { it.code == "key.expired" && it.severity == Severity.ERROR })

        val ec = inspectKey(fixtureKey("smime-p256.crt.pem"), null, null)
        assertTrue(ec.usable)
        assertFalse(ec.usableByServer)
        assertTrue(assertNotNull(ec.serverReason).contains("RSA"))
    }

    @Test
    fun `private keys are refused with a stable code`() {
        for (name in listOf("keys/alice.sec.asc", "keys/alice.key.pem")) {
            val e = assertFailsWith<ApiException.InvalidKey> { inspectKey(example(name), null, null) }
            assertEquals("key.private_key", e.code)
            assertEquals("key.private_key", (e as ApiException).stableCode)
        }
        val e = assertFailsWith<ApiException> {
            encrypt(hello, example("keys/alice.pub.asc"), EncryptOptions(algorithm = Algorithm.AES256_GCM))
        }
        assertEquals("encrypt.aead_with_openpgp", e.stableCode)
    }

    @Test
    fun `S-MIME encryption is opened by openssl cms`() {
        val out = encrypt(hello, example("keys/alice.crt.pem"), EncryptOptions())
        assertFalse(out.alreadyEncrypted)
        assertTrue(isEncrypted(out.message))
        val dir = createTempDirectory("mailseal-kotlin").toFile()
        try {
            val stored = File(dir, "stored.eml").apply { writeBytes(out.message) }
            val opened = run(
                "openssl", "cms", "-decrypt", "-in", stored.path,
                "-inkey", File(REPO, "examples/keys/alice.key.pem").path,
            )
            assertTrue(String(opened).contains("are you free for lunch on Friday?"))
        } finally {
            dir.deleteRecursively()
        }
        assertContentEquals(hello, decrypt(out.message, example("keys/alice.key.pem"), null))
    }

    @Test
    fun `OpenPGP encryption is opened by gpg`() {
        val out = encrypt(hello, example("keys/alice.pub.asc"), EncryptOptions())
        val text = String(out.message)
        val armored = text.substring(
            text.indexOf("-----BEGIN PGP MESSAGE-----"),
            text.indexOf("-----END PGP MESSAGE-----") + "-----END PGP MESSAGE-----".length,
        )
        val home = createTempDirectory("mailseal-gnupg").toFile()
        try {
            home.setReadable(true, true)
            home.setWritable(true, true)
            home.setExecutable(true, true)
            val env = mapOf("GNUPGHOME" to home.path)
            run("gpg", "--batch", "--quiet", "--import", File(REPO, "examples/keys/alice.sec.asc").path, env = env)
            val opened = run("gpg", "--batch", "--quiet", "--decrypt", env = env, stdin = armored.toByteArray())
            assertTrue(String(opened).contains("are you free for lunch on Friday?"))
        } finally {
            run("gpgconf", "--kill", "all", env = mapOf("GNUPGHOME" to home.path))
            home.deleteRecursively()
        }
        assertContentEquals(hello, decrypt(out.message, example("keys/alice.sec.asc"), null))
    }

    @Test
    fun `recipients are read once for many messages`() {
        Recipients(example("keys/alice.crt.pem"), "alice@example.org").use { alice ->
            assertTrue(alice.inspection().usableByServer)
            for (n in 1..3) {
                val message = String(hello).replace("Lunch", "Lunch $n").toByteArray()
                val out = alice.encrypt(message, EncryptOptions(algorithm = Algorithm.AES128))
                assertEquals("aes128", out.algorithm)
                assertContentEquals(message, decrypt(out.message, example("keys/alice.key.pem"), null))
            }
        }
        val e = assertFailsWith<ApiException.InvalidKey> { Recipients(example("keys/alice.key.pem"), null) }
        assertEquals("key.private_key", e.code)
    }

    @Test
    fun `files are encrypted and decrypted path to path`() {
        val dir = createTempDirectory("mailseal-files").toFile()
        try {
            val input = File(dir, "in.eml").apply { writeBytes(hello) }
            val stored = File(dir, "stored.eml")
            val plain = File(dir, "plain.eml")
            val result = encryptFile(input.path, stored.path, example("keys/alice.crt.pem"), EncryptOptions())
            assertEquals("aes256", result.algorithm)
            assertTrue(isEncrypted(stored.readBytes()))
            decryptFile(stored.path, plain.path, example("keys/alice.key.pem"), null)
            assertContentEquals(hello, plain.readBytes())
            assertEquals(0, dir.listFiles()!!.count { it.name.startsWith(".") }, "no temporary file is left")
            val missing = assertFailsWith<ApiException> {
                decryptFile(File(dir, "nothing.eml").path, plain.path, example("keys/alice.key.pem"), null)
            }
            assertEquals("io.read", missing.stableCode)
            assertContentEquals(hello, plain.readBytes(), "a failed call leaves the old file")
        } finally {
            dir.deleteRecursively()
        }
    }
}
