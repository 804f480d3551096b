package org.mailseal

import java.io.File
import java.nio.file.Files
import java.util.concurrent.TimeUnit

/** The repository checkout the tests run from (set by Maven). */
val REPO: File = File(System.getProperty("mailseal.repo") ?: "../../..").canonicalFile

fun example(path: String): ByteArray = File(REPO, "examples/$path").readBytes()

fun fixtureKey(name: String): ByteArray =
    File(REPO, "tests/fixtures/stalwart-0.16.19/keys/$name").readBytes()

const val ALICE = "alice@example.org"
const val ALICE_PASSWORD = "alice-Golden-Fixture-passphrase-26"

/** The stable code of any mailseal error (each subclass carries it). */
val ApiException.stableCode: String
    get() = when (this) {
        is ApiException.InvalidKey -> code
        is ApiException.Encryption -> code
        is ApiException.Decryption -> code
        is ApiException.InvalidInput -> code
        is ApiException.Authentication -> code
        is ApiException.NotAvailable -> code
        is ApiException.Server -> code
        is ApiException.Transport -> code
    }

/** Runs a program to its end; its stdout, or a failure with its stderr. */
fun run(vararg command: String, env: Map<String, String> = emptyMap(), stdin: ByteArray? = null): ByteArray {
    val builder = ProcessBuilder(*command)
    builder.environment().putAll(env)
    val errors = Files.createTempFile("mailseal-test", ".err").toFile()
    builder.redirectError(errors)
    val process = builder.start()
    process.outputStream.use { out -> if (stdin != null) out.write(stdin) }
    val output = process.inputStream.readBytes()
    check(process.waitFor(120, TimeUnit.SECONDS)) { "${command[0]} did not finish" }
    val status = process.exitValue()
    val stderr = errors.readText()
    errors.delete()
    check(status == 0) { "${command.joinToString(" ")} failed ($status): $stderr" }
    return output
}

/** A mailseal-testserver process on 127.0.0.1 (imitating `version`, 0.16 by default), stopped by close(). */
class TestServer(version: String? = null) : AutoCloseable {
    private val process: Process
    val url: String

    init {
        val binary = System.getProperty("mailseal.testserver")
            ?: error("mailseal.testserver is not set (run the tests through Maven)")
        val args = mutableListOf(binary, "--port", "0")
        if (version != null) args += listOf("--version", version)
        process = ProcessBuilder(args)
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start()
        val line = process.inputStream.bufferedReader().readLine() ?: ""
        check(line.startsWith("listening http://127.0.0.1:")) { "the test server did not start: $line" }
        url = line.removePrefix("listening ")
    }

    override fun close() {
        // Closing stdin is the server's signal to exit.
        process.outputStream.close()
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly()
            process.waitFor()
        }
    }
}
