using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using Confluent.Kafka;

namespace PiBench.Core.Kafka;

/// <summary>
/// The few librdkafka entry points that Confluent.Kafka does not wrap (mock cluster control, purge).
/// They must bind to the very librdkafka object that Confluent loaded: inside the module that library was
/// loaded by PiBench's private AssemblyLoadContext from dependencies/runtimes/&lt;rid&gt;/native/ (on Debian 12 x64 the
/// centos8- twin), in tests from the test bin folder. So there are no <c>[DllImport]</c>s and no
/// DllImportResolver here (one resolver per assembly would clash with other areas): the already mapped file is
/// found in /proc/self/maps (Linux) or next to Confluent.Kafka.dll, opened again with
/// <see cref="NativeLibrary.TryLoad(string, out IntPtr)"/> (the loader hands back the same handle), and the
/// exports are called through function pointers.
/// </summary>
internal static unsafe class RdKafkaNative
{
    public const short ApiKeyProduce = 0;
    public const short ApiKeyMetadata = 3;
    public const int PurgeQueue = 0x1;
    public const int PurgeInflight = 0x2;
    public const int PurgeNonBlocking = 0x4;

    private static readonly object s_gate = new();
    private static Exports? s_exports;

    /// <summary>Path of the librdkafka file whose exports are used (diagnostics and tests).</summary>
    public static string? LibraryPath { get; private set; }

    private sealed class Exports
    {
        public delegate* unmanaged<IntPtr, IntPtr> HandleMockCluster;
        public delegate* unmanaged<IntPtr, IntPtr> MockClusterBootstraps;
        public delegate* unmanaged<IntPtr, byte*, int, int, int> MockTopicCreate;
        public delegate* unmanaged<IntPtr, byte*, int> MockTopicDelete;
        public delegate* unmanaged<IntPtr, int, int> MockBrokerSetDown;
        public delegate* unmanaged<IntPtr, int, int> MockBrokerSetUp;
        public delegate* unmanaged<IntPtr, int, int, int> MockBrokerSetRtt;
        public delegate* unmanaged<IntPtr, short, nuint, int*, void> MockPushRequestErrorsArray;
        public delegate* unmanaged<IntPtr, short, void> MockClearRequestErrors;
        public delegate* unmanaged<IntPtr, byte*, int, void> MockTopicSetError;
        public delegate* unmanaged<IntPtr, int, int> Purge;
        public delegate* unmanaged<IntPtr, int, void> MockSetControllerId;
    }

    private static Exports Get()
    {
        if (s_exports is { } e) return e;
        lock (s_gate)
        {
            if (s_exports is not null) return s_exports;
            _ = Library.Version; // makes Confluent load librdkafka first, through whatever load context we are in
            IntPtr lib = IntPtr.Zero;
            var tried = new List<string>();
            foreach (var path in Candidates())
            {
                tried.Add(path);
                if (!File.Exists(path) || !NativeLibrary.TryLoad(path, out var h)) continue;
                if (NativeLibrary.TryGetExport(h, "rd_kafka_handle_mock_cluster", out _)) { lib = h; LibraryPath = path; break; }
            }
            if (lib == IntPtr.Zero)
                throw new PiBenchException("KafkaNativeLibraryNotFound", PiBenchErrorCategory.NotInstalled,
                    "The librdkafka native library that Confluent.Kafka loaded could not be located for the mock-cluster calls. Tried: " + string.Join(", ", tried),
                    Library.VersionString, "Reinstall the module so that dependencies/runtimes/<rid>/native/ holds librdkafka, or install librdkafka1 from the distribution.");
            var x = new Exports
            {
                HandleMockCluster = (delegate* unmanaged<IntPtr, IntPtr>)NativeLibrary.GetExport(lib, "rd_kafka_handle_mock_cluster"),
                MockClusterBootstraps = (delegate* unmanaged<IntPtr, IntPtr>)NativeLibrary.GetExport(lib, "rd_kafka_mock_cluster_bootstraps"),
                MockTopicCreate = (delegate* unmanaged<IntPtr, byte*, int, int, int>)NativeLibrary.GetExport(lib, "rd_kafka_mock_topic_create"),
                MockTopicDelete = (delegate* unmanaged<IntPtr, byte*, int>)NativeLibrary.GetExport(lib, "rd_kafka_mock_topic_delete"),
                MockBrokerSetDown = (delegate* unmanaged<IntPtr, int, int>)NativeLibrary.GetExport(lib, "rd_kafka_mock_broker_set_down"),
                MockBrokerSetUp = (delegate* unmanaged<IntPtr, int, int>)NativeLibrary.GetExport(lib, "rd_kafka_mock_broker_set_up"),
                MockBrokerSetRtt = (delegate* unmanaged<IntPtr, int, int, int>)NativeLibrary.GetExport(lib, "rd_kafka_mock_broker_set_rtt"),
                MockPushRequestErrorsArray = (delegate* unmanaged<IntPtr, short, nuint, int*, void>)NativeLibrary.GetExport(lib, "rd_kafka_mock_push_request_errors_array"),
                MockClearRequestErrors = (delegate* unmanaged<IntPtr, short, void>)NativeLibrary.GetExport(lib, "rd_kafka_mock_clear_request_errors"),
                MockTopicSetError = (delegate* unmanaged<IntPtr, byte*, int, void>)NativeLibrary.GetExport(lib, "rd_kafka_mock_topic_set_error"),
                Purge = (delegate* unmanaged<IntPtr, int, int>)NativeLibrary.GetExport(lib, "rd_kafka_purge"),
                MockSetControllerId = (delegate* unmanaged<IntPtr, int, void>)NativeLibrary.GetExport(lib, "rd_kafka_mock_set_controller_id"),
            };
            s_exports = x;
            return x;
        }
    }

    /// <summary>librdkafka files already mapped into this process first, then the files next to Confluent.Kafka.dll.</summary>
    private static IEnumerable<string> Candidates()
    {
        if (OperatingSystem.IsLinux())
        {
            string[] maps;
            try { maps = File.ReadAllLines("/proc/self/maps"); }
            catch (IOException) { maps = Array.Empty<string>(); }
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var line in maps)
            {
                var slash = line.IndexOf('/');
                if (slash < 0) continue;
                var path = line[slash..].Trim();
                if (Path.GetFileName(path).Contains("rdkafka", StringComparison.Ordinal) && seen.Add(path)) yield return path;
            }
        }
        var dir = Path.GetDirectoryName(typeof(Library).Assembly.Location) ?? AppContext.BaseDirectory;
        var os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
        var arch = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
        var native = Path.Combine(dir, "runtimes", $"{os}-{arch}", "native");
        if (OperatingSystem.IsWindows()) { yield return Path.Combine(native, "librdkafka.dll"); yield break; }
        var ext = OperatingSystem.IsMacOS() ? ".dylib" : ".so";
        foreach (var name in new[] { "librdkafka", "centos8-librdkafka", "alpine-librdkafka" })
        {
            yield return Path.Combine(native, name + ext);
            yield return Path.Combine(dir, name + ext);
        }
        yield return "/usr/lib/" + (RuntimeInformation.ProcessArchitecture == Architecture.Arm ? "arm-linux-gnueabihf" : "x86_64-linux-gnu") + "/librdkafka.so.1";
    }

    /// <summary>Producer entry points for <see cref="NativeRunProducer"/>; null if an export is missing.</summary>
    public sealed class Producer
    {
        public delegate* unmanaged<IntPtr> ConfNew;
        public delegate* unmanaged<IntPtr, void> ConfDestroy;
        public delegate* unmanaged<IntPtr, byte*, byte*, byte*, nuint, int> ConfSet;
        public delegate* unmanaged<IntPtr, IntPtr, void> ConfSetOpaque;
        public delegate* unmanaged<IntPtr, delegate* unmanaged[Cdecl]<IntPtr, IntPtr, IntPtr, void>, void> ConfSetDrMsgCb;
        public delegate* unmanaged<IntPtr, delegate* unmanaged[Cdecl]<IntPtr, int, IntPtr, IntPtr, void>, void> ConfSetErrorCb;
        public delegate* unmanaged<IntPtr, delegate* unmanaged[Cdecl]<IntPtr, int, IntPtr, IntPtr, void>, void> ConfSetLogCb;
        public delegate* unmanaged<int, IntPtr, byte*, nuint, IntPtr> New;
        public delegate* unmanaged<IntPtr, void> Destroy;
        public delegate* unmanaged<IntPtr, byte*, IntPtr, IntPtr> TopicNew;
        public delegate* unmanaged<IntPtr, void> TopicDestroy;
        public delegate* unmanaged<IntPtr, int, int, byte*, nuint, void*, nuint, IntPtr, int> Produce;
        public delegate* unmanaged<int> LastError;
        public delegate* unmanaged<IntPtr, int, int> Poll;
        public delegate* unmanaged<IntPtr, int, int> Flush;
        public delegate* unmanaged<IntPtr, int> OutqLen;
        public delegate* unmanaged<IntPtr, int, int> Purge;
        public delegate* unmanaged<IntPtr, IntPtr> Opaque;
        public delegate* unmanaged<int, IntPtr> Err2Str;
        /// <summary>rd_kafka_metadata(rk, all_topics, only_rkt, &amp;metadatap, timeout_ms).</summary>
        public delegate* unmanaged<IntPtr, int, IntPtr, IntPtr*, int, int> Metadata;
        public delegate* unmanaged<IntPtr, void> MetadataDestroy;
        /// <summary>rd_kafka_produce_batch(rkt, partition, msgflags, rkmessages, message_cnt).</summary>
        public delegate* unmanaged<IntPtr, int, int, Message*, int, int> ProduceBatch;
    }

    /// <summary>rd_kafka_message_t (rdkafka.h), C layout on 32 and 64 bits.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Message
    {
        public int Error;
        public IntPtr Topic;
        public int Partition;
        public IntPtr Payload;
        public nuint Length;
        public IntPtr Key;
        public nuint KeyLength;
        public long Offset;
        public IntPtr Private;
    }

    /// <summary>rd_kafka_metadata_t (rdkafka.h): the fields read here, in C layout (natural alignment on 32 and 64 bits).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct MetadataHead
    {
        public int BrokerCount;
        public IntPtr Brokers;
        public int TopicCount;
        public IntPtr Topics;
    }

    /// <summary>rd_kafka_metadata_topic_t (rdkafka.h).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct MetadataTopic
    {
        public IntPtr Topic;
        public int PartitionCount;
        public IntPtr Partitions;
        public int Error;
    }

    private static Producer? s_producer;
    private static bool s_producerTried;

    public static Producer? ProducerExports()
    {
        if (s_producerTried) return s_producer;
        lock (s_gate)
        {
            if (s_producerTried) return s_producer;
            Get();
            var lib = NativeLibrary.Load(LibraryPath!);
            IntPtr E(string n) => NativeLibrary.TryGetExport(lib, n, out var a) ? a : IntPtr.Zero;
            var names = new[] { "rd_kafka_conf_new", "rd_kafka_conf_destroy", "rd_kafka_conf_set", "rd_kafka_conf_set_opaque",
                "rd_kafka_conf_set_dr_msg_cb", "rd_kafka_conf_set_error_cb", "rd_kafka_conf_set_log_cb", "rd_kafka_new", "rd_kafka_destroy",
                "rd_kafka_topic_new", "rd_kafka_topic_destroy", "rd_kafka_produce", "rd_kafka_last_error", "rd_kafka_poll", "rd_kafka_flush",
                "rd_kafka_outq_len", "rd_kafka_purge", "rd_kafka_opaque", "rd_kafka_err2str", "rd_kafka_metadata", "rd_kafka_metadata_destroy", "rd_kafka_produce_batch" };
            var a = names.Select(E).ToArray();
            if (a.Any(p => p == IntPtr.Zero)) { s_producerTried = true; return null; }
            s_producer = new Producer
            {
                ConfNew = (delegate* unmanaged<IntPtr>)a[0],
                ConfDestroy = (delegate* unmanaged<IntPtr, void>)a[1],
                ConfSet = (delegate* unmanaged<IntPtr, byte*, byte*, byte*, nuint, int>)a[2],
                ConfSetOpaque = (delegate* unmanaged<IntPtr, IntPtr, void>)a[3],
                ConfSetDrMsgCb = (delegate* unmanaged<IntPtr, delegate* unmanaged[Cdecl]<IntPtr, IntPtr, IntPtr, void>, void>)a[4],
                ConfSetErrorCb = (delegate* unmanaged<IntPtr, delegate* unmanaged[Cdecl]<IntPtr, int, IntPtr, IntPtr, void>, void>)a[5],
                ConfSetLogCb = (delegate* unmanaged<IntPtr, delegate* unmanaged[Cdecl]<IntPtr, int, IntPtr, IntPtr, void>, void>)a[6],
                New = (delegate* unmanaged<int, IntPtr, byte*, nuint, IntPtr>)a[7],
                Destroy = (delegate* unmanaged<IntPtr, void>)a[8],
                TopicNew = (delegate* unmanaged<IntPtr, byte*, IntPtr, IntPtr>)a[9],
                TopicDestroy = (delegate* unmanaged<IntPtr, void>)a[10],
                Produce = (delegate* unmanaged<IntPtr, int, int, byte*, nuint, void*, nuint, IntPtr, int>)a[11],
                LastError = (delegate* unmanaged<int>)a[12],
                Poll = (delegate* unmanaged<IntPtr, int, int>)a[13],
                Flush = (delegate* unmanaged<IntPtr, int, int>)a[14],
                OutqLen = (delegate* unmanaged<IntPtr, int>)a[15],
                Purge = (delegate* unmanaged<IntPtr, int, int>)a[16],
                Opaque = (delegate* unmanaged<IntPtr, IntPtr>)a[17],
                Err2Str = (delegate* unmanaged<int, IntPtr>)a[18],
                Metadata = (delegate* unmanaged<IntPtr, int, IntPtr, IntPtr*, int, int>)a[19],
                MetadataDestroy = (delegate* unmanaged<IntPtr, void>)a[20],
                ProduceBatch = (delegate* unmanaged<IntPtr, int, int, Message*, int, int>)a[21],
            };
            s_producerTried = true;
            return s_producer;
        }
    }

    public static string ErrorString(int err)
    {
        var x = ProducerExports();
        var p = x is null ? IntPtr.Zero : x.Err2Str(err);
        return p == IntPtr.Zero ? ((ErrorCode)err).ToString() : Marshal.PtrToStringUTF8(p) ?? "";
    }

    /// <summary>The rd_kafka_t* behind a Confluent client (internal SafeHandle <c>Handle.LibrdkafkaHandle</c>).</summary>
    public static SafeHandle RdKafkaHandleOf(IClient client)
    {
        var p = typeof(Handle).GetProperty("LibrdkafkaHandle", BindingFlags.Instance | BindingFlags.NonPublic)
            ?? throw new PiBenchException("KafkaClientInternalsChanged", PiBenchErrorCategory.NotImplemented,
                "Confluent.Kafka no longer exposes Handle.LibrdkafkaHandle; the mock-cluster calls need an update.", Library.VersionString);
        return (SafeHandle)p.GetValue(client.Handle)!;
    }

    public static IntPtr MockClusterOf(IClient client)
    {
        var h = RdKafkaHandleOf(client);
        var added = false;
        h.DangerousAddRef(ref added);
        try { return Get().HandleMockCluster(h.DangerousGetHandle()); }
        finally { if (added) h.DangerousRelease(); }
    }

    public static string? MockBootstraps(IntPtr mc)
    {
        var p = Get().MockClusterBootstraps(mc);
        return p == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(p);
    }

    public static ErrorCode MockTopicCreate(IntPtr mc, string topic, int partitions, int replicationFactor)
    {
        var bytes = Utf8Z(topic);
        fixed (byte* t = bytes) return (ErrorCode)Get().MockTopicCreate(mc, t, partitions, replicationFactor);
    }

    public static ErrorCode MockTopicDelete(IntPtr mc, string topic)
    {
        var bytes = Utf8Z(topic);
        fixed (byte* t = bytes) return (ErrorCode)Get().MockTopicDelete(mc, t);
    }

    public static void MockTopicSetError(IntPtr mc, string topic, ErrorCode error)
    {
        var bytes = Utf8Z(topic);
        fixed (byte* t = bytes) Get().MockTopicSetError(mc, t, (int)error);
    }

    public static ErrorCode MockBrokerSetDown(IntPtr mc, int brokerId) => (ErrorCode)Get().MockBrokerSetDown(mc, brokerId);
    public static ErrorCode MockBrokerSetUp(IntPtr mc, int brokerId) => (ErrorCode)Get().MockBrokerSetUp(mc, brokerId);
    public static ErrorCode MockBrokerSetRtt(IntPtr mc, int brokerId, int rttMs) => (ErrorCode)Get().MockBrokerSetRtt(mc, brokerId, rttMs);

    public static void MockPushRequestErrors(IntPtr mc, short apiKey, ReadOnlySpan<ErrorCode> errors)
    {
        var codes = new int[errors.Length];
        for (var i = 0; i < codes.Length; i++) codes[i] = (int)errors[i];
        fixed (int* p = codes) Get().MockPushRequestErrorsArray(mc, apiKey, (nuint)codes.Length, p);
    }

    /// <summary>The mock reports controller id 0 (no such broker) until told otherwise; admin calls then wait for a controller.</summary>
    public static void MockSetControllerId(IntPtr mc, int brokerId) => Get().MockSetControllerId(mc, brokerId);

    public static void MockClearRequestErrors(IntPtr mc, short apiKey) => Get().MockClearRequestErrors(mc, apiKey);

    /// <summary>rd_kafka_purge on a producer: queued (and optionally in-flight) messages fail with a purge error.</summary>
    public static ErrorCode Purge(IClient producer, int flags)
    {
        var h = RdKafkaHandleOf(producer);
        var added = false;
        h.DangerousAddRef(ref added);
        try { return (ErrorCode)Get().Purge(h.DangerousGetHandle(), flags); }
        finally { if (added) h.DangerousRelease(); }
    }

    private static byte[] Utf8Z(string s)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
        Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }
}
