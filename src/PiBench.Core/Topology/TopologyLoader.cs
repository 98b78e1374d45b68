using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace PiBench.Core.Topology;

/// <summary>Reads topology YAML with YamlDotNet's representation model so every error names file, line and key.</summary>
internal static class TopologyLoader
{
    private static readonly Regex HostName = new(@"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$", RegexOptions.Compiled);
    private static readonly Regex NodeName = new(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$", RegexOptions.Compiled);

    public static ClusterTopology Load(string path)
    {
        var full = System.IO.Path.GetFullPath(PathUtil.ExpandHome(path));
        if (!File.Exists(full))
            throw new PiBenchException("TopologyNotFound", PiBenchErrorCategory.ObjectNotFound,
                $"Topology file '{full}' does not exist.", path,
                "Pass -Path with an existing file, or create one with New-PiTopology.");
        var size = new FileInfo(full).Length;
        if (size > TopologyLoaderLimits.MaxBytes)
            throw new PiBenchException("TopologyTooLarge", PiBenchErrorCategory.InvalidData,
                $"Topology file '{full}' is {size / 1024} KB; a topology is at most {TopologyLoaderLimits.MaxBytes / 1024} KB, so it was not read.", full,
                "Pass the cluster's topology file (a few KB; see config/cluster-topology.yaml).");
        return Parse(File.ReadAllText(full), full);
    }

    public static ClusterTopology Parse(string yaml, string source)
    {
        if (yaml.Length > TopologyLoaderLimits.MaxBytes)
            throw new PiBenchException("TopologyTooLarge", PiBenchErrorCategory.InvalidData,
                $"{source}: the topology text has {yaml.Length} characters; a topology is at most {TopologyLoaderLimits.MaxBytes / 1024} KB.", source,
                "Pass the cluster's topology file (a few KB; see config/cluster-topology.yaml).");
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException ex)
        {
            var what = ex.InnerException?.Message ?? ex.Message;
            var id = what.Contains("Duplicate key", StringComparison.OrdinalIgnoreCase) ? "TopologyDuplicateKey" : "TopologyParseError";
            // YAML forbids tabs in indentation, and the parser often reports that at 1:1: point at the first tab instead.
            if (FirstIndentTab(yaml) is { } tab && (ex.Start.Line <= 1 || ex.Start.Line >= tab.Line))
                throw Error("TopologyParseError", source, tab, null, "a tab is used for indentation; YAML allows only spaces there.", "Replace the tab with spaces.");
            throw Error(id, source, ex.Start, null, $"YAML error: {Trim(what)}", "Fix the YAML syntax at that line.");
        }
        if (stream.Documents.Count > 1)
            throw Error("TopologyMultipleDocuments", source, stream.Documents[1].RootNode.Start, null,
                $"the file holds {stream.Documents.Count} YAML documents (separated by '---'); a topology is one document.", "Keep one document per topology file.");
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
            throw Error("TopologyParseError", source, Mark.Empty, null, "the file is empty or is not a YAML mapping.",
                "Start from config/cluster-topology.yaml or New-PiTopology.");

        var r = new Reader(source);
        r.AllowOnly(root, "", "name", "ssh", "nodes", "benchmark", "kafka", "minio", "arroyo", "flink");

        var name = r.Str(root, "name", "name") ?? "picocluster";

        var sshNode = r.Map(root, "ssh", "ssh");
        var ssh = new SshSettings();
        if (sshNode is not null)
        {
            r.AllowOnly(sshNode, "ssh", "user", "port", "key_path", "known_hosts", "connect_timeout_seconds", "max_sessions");
            ssh = new SshSettings
            {
                User = r.Str(sshNode, "user", "ssh.user") ?? ssh.User,
                Port = r.Int(sshNode, "port", "ssh.port", 1, 65535) ?? ssh.Port,
                KeyPath = r.Str(sshNode, "key_path", "ssh.key_path") ?? ssh.KeyPath,
                KnownHosts = r.Str(sshNode, "known_hosts", "ssh.known_hosts") ?? ssh.KnownHosts,
                ConnectTimeoutSeconds = r.Int(sshNode, "connect_timeout_seconds", "ssh.connect_timeout_seconds", 1, 600) ?? ssh.ConnectTimeoutSeconds,
                MaxSessions = r.Int(sshNode, "max_sessions", "ssh.max_sessions", 1, 64) ?? ssh.MaxSessions,
            };
        }

        if (!root.Children.TryGetValue(new YamlScalarNode("nodes"), out var nodesNode) || nodesNode is not YamlSequenceNode seq || seq.Children.Count == 0)
            throw Error("TopologyNoNodes", source, (nodesNode ?? root).Start, "nodes", "there are no nodes.",
                "Add a 'nodes:' list with one controller and at least one worker.");

        var nodes = new List<PiNode>();
        var names = new Dictionary<string, Mark>(StringComparer.OrdinalIgnoreCase);
        var endpoints = new Dictionary<string, Mark>(StringComparer.OrdinalIgnoreCase);
        var workerIndex = 0;
        var dir = System.IO.Path.GetDirectoryName(source) ?? ".";
        for (var i = 0; i < seq.Children.Count; i++)
        {
            var key = $"nodes[{i}]";
            if (seq.Children[i] is not YamlMappingNode n)
                throw Error("TopologyInvalidValue", source, seq.Children[i].Start, key, "each node must be a mapping (name, address, role).", null);
            r.AllowOnly(n, key, "name", "address", "role", "hostname", "port", "user", "key_path");
            var nodeName = r.Str(n, "name", key + ".name") ?? throw Error("TopologyMissingKey", source, n.Start, key + ".name", "the node has no name.", "Give every node a unique name, e.g. pi2.");
            key = $"nodes[{i}] ({nodeName})";
            if (!NodeName.IsMatch(nodeName))
                throw Error("TopologyInvalidValue", source, ValueMark(n, "name"), key + ".name", $"'{nodeName}' is not a valid node name (letters, digits, '.', '_', '-').", null);
            var address = r.Str(n, "address", key + ".address") ?? throw Error("TopologyMissingKey", source, n.Start, key + ".address", "the node has no address.", "Add address: <IPv4 or host name>.");
            if (AddressProblem(address) is { } problem)
                throw Error("TopologyInvalidAddress", source, ValueMark(n, "address"), key + ".address", $"'{address}' {problem}", "Use a dotted-decimal IPv4 address such as 192.168.2.71 (no leading zeros) or a host name.");
            var roleText = r.Str(n, "role", key + ".role") ?? throw Error("TopologyMissingKey", source, n.Start, key + ".role", "the node has no role.", "Add role: controller or role: worker.");
            NodeRole role = roleText.ToLowerInvariant() switch
            {
                "controller" => NodeRole.Controller,
                "worker" => NodeRole.Worker,
                _ => throw Error("TopologyInvalidValue", source, ValueMark(n, "role"), key + ".role", $"role '{roleText}' is not controller or worker.", null),
            };
            var port = r.Int(n, "port", key + ".port", 1, 65535) ?? ssh.Port;
            if (names.TryGetValue(nodeName, out var first))
                throw Error("TopologyDuplicateNode", source, ValueMark(n, "name"), key + ".name", $"node name '{nodeName}' is used twice (first at line {first.Line}).", "Give every node a unique name.");
            names[nodeName] = ValueMark(n, "name");
            var endpoint = $"{address}:{port}";
            if (endpoints.TryGetValue(endpoint, out var firstEp))
                throw Error("TopologyDuplicateAddress", source, ValueMark(n, "address"), key + ".address", $"address {endpoint} is used twice (first at line {firstEp.Line}).", "Every node needs its own address (or its own SSH port).");
            endpoints[endpoint] = ValueMark(n, "address");

            nodes.Add(new PiNode
            {
                Name = nodeName,
                Address = address,
                Port = port,
                User = r.Str(n, "user", key + ".user") ?? ssh.User,
                Role = role,
                Index = role == NodeRole.Worker ? ++workerIndex : 0,
                Hostname = r.Str(n, "hostname", key + ".hostname"),
                KeyPath = PathUtil.Resolve(r.Str(n, "key_path", key + ".key_path") ?? ssh.KeyPath, dir),
                KnownHostsPath = PathUtil.Resolve(ssh.KnownHosts, dir),
                TopologyPath = source,
                ConnectTimeoutSeconds = ssh.ConnectTimeoutSeconds,
                MaxSessions = ssh.MaxSessions,
            });
        }

        var controllers = nodes.Where(x => x.Role == NodeRole.Controller).ToList();
        if (controllers.Count == 0)
            throw Error("TopologyNoController", source, seq.Start, "nodes", "no node has role: controller.", "Mark Pi1 with role: controller.");
        if (controllers.Count > 1)
            throw Error("TopologyMultipleControllers", source, seq.Start, "nodes", $"{controllers.Count} nodes have role: controller ({string.Join(", ", controllers.Select(c => c.Name))}); exactly one is allowed.", null);
        if (workerIndex == 0)
            throw Error("TopologyNoWorkers", source, seq.Start, "nodes", "no node has role: worker.", "Add at least one worker node.");

        var bench = new BenchmarkSettings();
        if (r.Map(root, "benchmark", "benchmark") is { } b)
        {
            r.AllowOnly(b, "benchmark", "parallelism", "events_per_second", "total_events", "queries", "repetitions", "warmup_seconds", "measure_seconds");
            var parallelism = r.Int(b, "parallelism", "benchmark.parallelism", 1, 4096);
            if (parallelism is { } p && p != workerIndex)
                throw Error("TopologyParallelismMismatch", source, ValueMark(b, "parallelism"), "benchmark.parallelism",
                    $"parallelism {p} does not match the {workerIndex} worker node(s).", "Remove benchmark.parallelism (it defaults to the number of workers) or add/remove workers.");
            bench = new BenchmarkSettings
            {
                Parallelism = parallelism,
                EventsPerSecond = r.Int(b, "events_per_second", "benchmark.events_per_second", 1, 100_000_000) ?? bench.EventsPerSecond,
                TotalEvents = r.Long(b, "total_events", "benchmark.total_events", 1, long.MaxValue) ?? bench.TotalEvents,
                Queries = r.StrList(b, "queries", "benchmark.queries") ?? bench.Queries,
                Repetitions = r.Int(b, "repetitions", "benchmark.repetitions", 1, 1000) ?? bench.Repetitions,
                WarmupSeconds = r.Int(b, "warmup_seconds", "benchmark.warmup_seconds", 0, 86400) ?? bench.WarmupSeconds,
                MeasureSeconds = r.Int(b, "measure_seconds", "benchmark.measure_seconds", 1, 86400) ?? bench.MeasureSeconds,
            };
        }

        var kafka = new KafkaSettings();
        if (r.Map(root, "kafka", "kafka") is { } k)
        {
            r.AllowOnly(k, "kafka", "port", "partitions", "replication_factor", "input_topic", "output_topic", "image");
            kafka = new KafkaSettings
            {
                Port = r.Int(k, "port", "kafka.port", 1, 65535) ?? kafka.Port,
                Partitions = r.Int(k, "partitions", "kafka.partitions", 1, 10000),
                ReplicationFactor = r.Int(k, "replication_factor", "kafka.replication_factor", 1, 16) ?? kafka.ReplicationFactor,
                InputTopic = r.Str(k, "input_topic", "kafka.input_topic") ?? kafka.InputTopic,
                OutputTopic = r.Str(k, "output_topic", "kafka.output_topic") ?? kafka.OutputTopic,
                Image = r.Image(k, "image", "kafka.image"),
            };
        }

        var minio = new MinioSettings();
        if (r.Map(root, "minio", "minio") is { } m)
        {
            r.AllowOnly(m, "minio", "api_port", "console_port", "bucket", "access_key", "secret_key", "image");
            minio = new MinioSettings
            {
                ApiPort = r.Int(m, "api_port", "minio.api_port", 1, 65535) ?? minio.ApiPort,
                ConsolePort = r.Int(m, "console_port", "minio.console_port", 1, 65535) ?? minio.ConsolePort,
                Bucket = r.Str(m, "bucket", "minio.bucket") ?? minio.Bucket,
                AccessKey = r.Str(m, "access_key", "minio.access_key") ?? minio.AccessKey,
                SecretKey = r.Str(m, "secret_key", "minio.secret_key") is { } secret ? new Secret(secret) : minio.SecretKey,
                Image = r.Image(m, "image", "minio.image"),
            };
        }

        var arroyo = new ArroyoSettings();
        if (r.Map(root, "arroyo", "arroyo") is { } a)
        {
            // Arroyo 0.11 has no per-slot memory setting: its Config struct is deny_unknown_fields (crates/arroyo-rpc/src/config.rs
            // @v0.11.0), so ARROYO__MEMORY_PER_SLOT_MB made every `arroyo node` print "Configuration is invalid!" and exit.
            r.Obsolete(a, "memory_per_slot_mb", "arroyo.memory_per_slot_mb",
                "it set ARROYO__MEMORY_PER_SLOT_MB, which is not an Arroyo 0.11 setting: 0.11 rejects unknown settings, so every Arroyo node exited at start.",
                "Delete the line and set arroyo.node_memory_mb instead: the memory limit of each worker's Arroyo node container, shared by the workers it spawns (0.11 has no per-slot memory).");
            r.AllowOnly(a, "arroyo", "version", "api_port", "controller_port", "admin_port", "task_slots", "node_memory_mb", "checkpoint_interval_seconds", "image");
            arroyo = new ArroyoSettings
            {
                Version = r.Str(a, "version", "arroyo.version") ?? arroyo.Version,
                ApiPort = r.Int(a, "api_port", "arroyo.api_port", 1, 65535) ?? arroyo.ApiPort,
                ControllerPort = r.Int(a, "controller_port", "arroyo.controller_port", 1, 65535) ?? arroyo.ControllerPort,
                AdminPort = r.Int(a, "admin_port", "arroyo.admin_port", 1, 65535) ?? arroyo.AdminPort,
                TaskSlots = r.Int(a, "task_slots", "arroyo.task_slots", 1, 256) ?? arroyo.TaskSlots,
                NodeMemoryMb = r.Int(a, "node_memory_mb", "arroyo.node_memory_mb", 256, 1_048_576) ?? arroyo.NodeMemoryMb,
                CheckpointIntervalSeconds = r.Int(a, "checkpoint_interval_seconds", "arroyo.checkpoint_interval_seconds", 1, 86400) ?? arroyo.CheckpointIntervalSeconds,
                Image = r.Image(a, "image", "arroyo.image"),
            };
        }

        var flink = new FlinkSettings();
        if (r.Map(root, "flink", "flink") is { } f)
        {
            r.AllowOnly(f, "flink", "version", "rest_port", "sql_gateway_port", "task_slots", "taskmanager_memory_mb", "jobmanager_memory_mb", "checkpoint_interval_seconds", "image", "base_image");
            flink = new FlinkSettings
            {
                Version = r.Str(f, "version", "flink.version") ?? flink.Version,
                RestPort = r.Int(f, "rest_port", "flink.rest_port", 1, 65535) ?? flink.RestPort,
                SqlGatewayPort = r.Int(f, "sql_gateway_port", "flink.sql_gateway_port", 1, 65535) ?? flink.SqlGatewayPort,
                TaskSlots = r.Int(f, "task_slots", "flink.task_slots", 1, 256) ?? flink.TaskSlots,
                TaskManagerMemoryMb = r.Int(f, "taskmanager_memory_mb", "flink.taskmanager_memory_mb", 256, 1_048_576) ?? flink.TaskManagerMemoryMb,
                JobManagerMemoryMb = r.Int(f, "jobmanager_memory_mb", "flink.jobmanager_memory_mb", 256, 1_048_576) ?? flink.JobManagerMemoryMb,
                CheckpointIntervalSeconds = r.Int(f, "checkpoint_interval_seconds", "flink.checkpoint_interval_seconds", 1, 86400) ?? flink.CheckpointIntervalSeconds,
                Image = r.Image(f, "image", "flink.image") is { } derived && derived.Contains('@', StringComparison.Ordinal)
                    ? throw Error("TopologyInvalidValue", source, ValueMark(f, "image"), "flink.image",
                        $"image '{derived}' is a digest, but this image is built on the controller (base_image + the Kafka SQL connector), so no registry digest can name it.",
                        "Give flink.image a tag (repository:1.2.3), and pin flink.base_image by digest (flink@sha256:...) if you want the base pinned.")
                    : r.Image(f, "image", "flink.image"),
                BaseImage = r.Image(f, "base_image", "flink.base_image"),
            };
        }

        CheckTopic(source, root, kafka.InputTopic, "input_topic");
        CheckTopic(source, root, kafka.OutputTopic, "output_topic");
        if (string.Equals(kafka.InputTopic, kafka.OutputTopic, StringComparison.Ordinal))
            throw Error("TopologyInvalidValue", source, KeyMark(root, "kafka", "output_topic"), "kafka.output_topic",
                $"'{kafka.OutputTopic}' is also the input topic: results would be read back as input.", "Give the output topic its own name.");
        CheckPorts(source, root, nodes.First(x => x.Role == NodeRole.Controller), kafka, minio, arroyo, flink);

        return new ClusterTopology
        {
            Path = source, Name = name, Ssh = ssh, Nodes = nodes, Benchmark = bench,
            Kafka = kafka, Minio = minio, Arroyo = arroyo, Flink = flink,
        };
    }

    /// <summary>
    /// Null for a valid address, else why it is not. IPv4 is strictly dotted decimal: four octets 0-255 without
    /// leading zeros, because the C resolver (inet_aton) reads 071 as octal 57 and 0x47 as hex, so 127.0.0.071 would
    /// reach 127.0.0.57. A host name whose last label is numeric or hex is refused for the same reason.
    /// </summary>
    public static string? AddressProblem(string address)
    {
        if (Regex.IsMatch(address, @"^[0-9.]+$"))
        {
            var parts = address.Split('.');
            if (parts.Length != 4 || parts.Any(p => p.Length is 0 or > 3)) return "is not a valid IPv4 address (four dotted numbers 0-255).";
            if (parts.FirstOrDefault(p => p.Length > 1 && p[0] == '0') is { } zero)
                return $"has a leading zero in octet '{zero}': resolvers read it as octal ({OctalReading(parts)}), not as {string.Join('.', parts.Select(p => int.Parse(p, CultureInfo.InvariantCulture)))}.";
            if (parts.Any(p => int.Parse(p, CultureInfo.InvariantCulture) > 255)) return "is not a valid IPv4 address (an octet is above 255).";
            return null;
        }
        if (address.Contains(':'))
            return IPAddress.TryParse(address, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? null : "is not a valid IPv6 address.";
        if (!HostName.IsMatch(address)) return "is not a valid IPv4 address or host name.";
        var last = address.TrimEnd('.').Split('.')[^1];
        if (Regex.IsMatch(last, @"^(0[xX][0-9A-Fa-f]*|[0-9]+)$"))
            return "looks like a numeric address in hex or short form, which resolvers read differently from what it shows; write four decimal octets.";
        return null;
    }

    private static readonly Regex TopicName = new(@"^[A-Za-z0-9._-]{1,249}$", RegexOptions.Compiled);

    /// <summary>Kafka's rule for topic names (Topic.validate): 1-249 of [A-Za-z0-9._-], not "." or "..".</summary>
    private static void CheckTopic(string source, YamlMappingNode root, string topic, string key)
    {
        if (TopicName.IsMatch(topic) && topic is not ("." or "..")) return;
        throw Error("TopologyInvalidValue", source, KeyMark(root, "kafka", key), "kafka." + key,
            $"'{topic}' is not a valid Kafka topic name (1-249 characters of letters, digits, '.', '_', '-'; not '.' or '..').", "Choose a name such as nexmark-events.");
    }

    /// <summary>
    /// The controller runs Kafka, MinIO and the engine under test with host networking: Kafka's, MinIO's and the SSH
    /// port must differ from each other and from every engine port. Arroyo and Flink never run at the same time, so
    /// each engine is checked with the shared services, not against the other.
    /// </summary>
    private static void CheckPorts(string source, YamlMappingNode root, PiNode controller, KafkaSettings kafka, MinioSettings minio, ArroyoSettings arroyo, FlinkSettings flink)
    {
        var shared = new List<(string Key, int Port)>
        {
            ($"SSH port of {controller.Name}", controller.Port), ("kafka.port", kafka.Port), ("minio.api_port", minio.ApiPort), ("minio.console_port", minio.ConsolePort),
        };
        var engines = new[]
        {
            new List<(string Key, int Port)> { ("arroyo.api_port", arroyo.ApiPort), ("arroyo.controller_port", arroyo.ControllerPort), ("arroyo.admin_port", arroyo.AdminPort) },
            new List<(string Key, int Port)> { ("flink.rest_port", flink.RestPort), ("flink.sql_gateway_port", flink.SqlGatewayPort) },
        };
        foreach (var engine in engines)
        {
            // Kafka, MinIO and SSH against each other and against the engine's ports (an engine's own ports are the
            // engine's business: a topology for one engine may park the other's on one unused port).
            var all = shared.Concat(engine).ToList();
            for (var i = 0; i < shared.Count; i++)
                for (var j = i + 1; j < all.Count; j++)
                    if (all[i].Port == all[j].Port)
                    {
                        var parts = all[j].Key.Split('.');
                        var mark = parts.Length == 2 ? KeyMark(root, parts[0], parts[1]) : root.Start;
                        throw Error("TopologyPortConflict", source, mark, all[j].Key,
                            $"{all[i].Key} and {all[j].Key} are both {all[i].Port} on the controller ({controller.Name}, {controller.Address}); each service needs its own port.",
                            $"Change one of them.");
                    }
        }
    }

    /// <summary>The position of section.key's value, else of the section, else of the file's root.</summary>
    private static Mark KeyMark(YamlMappingNode root, string section, string key)
    {
        if (!root.Children.TryGetValue(new YamlScalarNode(section), out var sec)) return root.Start;
        return sec is YamlMappingNode m ? ValueMark(m, key) : sec.Start;
    }

    /// <summary>The first tab in a line's indentation (1-based line and column), if any.</summary>
    private static Mark? FirstIndentTab(string yaml)
    {
        var lines = yaml.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            for (var c = 0; c < line.Length && (line[c] == ' ' || line[c] == '\t'); c++)
                if (line[c] == '\t') return new Mark(0, i + 1, c + 1);
        }
        return null;
    }

    private static string OctalReading(string[] parts)
    {
        try { return string.Join('.', parts.Select(p => p.Length > 1 && p[0] == '0' ? Convert.ToInt32(p, 8) : int.Parse(p, CultureInfo.InvariantCulture))); }
        catch (FormatException) { return "an invalid octal number"; }
    }

    private static Mark ValueMark(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var v) ? v.Start : map.Start;

    private static string Trim(string s) => s.Length > 300 ? s[..300] + "…" : s;

    internal static PiBenchException Error(string id, string source, Mark mark, string? key, string message, string? action)
    {
        var where = mark.Line > 0 ? $"{source}:{mark.Line}:{mark.Column}" : source;
        var keyText = key is null ? "" : $" key '{key}':";
        return new PiBenchException(id, PiBenchErrorCategory.InvalidData, $"{where}:{keyText} {message}",
            new TopologyErrorLocation(source, (int)mark.Line, (int)mark.Column, key ?? ""), action);
    }

    /// <summary>Typed accessors that report the line and key of a bad value.</summary>
    private sealed class Reader(string source)
    {
        public void AllowOnly(YamlMappingNode map, string path, params string[] allowed)
        {
            foreach (var (k, _) in map.Children)
            {
                var key = (k as YamlScalarNode)?.Value ?? "";
                if (!allowed.Contains(key, StringComparer.Ordinal))
                {
                    var full = path.Length == 0 ? key : $"{path}.{key}";
                    var suggestion = allowed.OrderBy(a => Distance(a, key)).First();
                    throw Error("TopologyUnknownKey", source, k.Start, full, $"unknown key '{key}'.",
                        $"Remove it or correct it (did you mean '{suggestion}'?). Allowed here: {string.Join(", ", allowed)}.");
                }
            }
        }

        /// <summary>A key PiBench once accepted but no longer does: refused with its line, why, and what to use instead.</summary>
        public void Obsolete(YamlMappingNode map, string key, string path, string why, string instead)
        {
            foreach (var (k, _) in map.Children)
                if ((k as YamlScalarNode)?.Value == key)
                    throw Error("TopologyObsoleteKey", source, k.Start, path, why, instead);
        }

        public YamlMappingNode? Map(YamlMappingNode map, string key, string path)
        {
            if (!map.Children.TryGetValue(new YamlScalarNode(key), out var v)) return null;
            if (v is YamlScalarNode { Value: null or "" or "~" or "null" }) return null;
            return v as YamlMappingNode ?? throw Error("TopologyInvalidValue", source, v.Start, path, "must be a mapping.", null);
        }

        public string? Str(YamlMappingNode map, string key, string path)
        {
            if (!map.Children.TryGetValue(new YamlScalarNode(key), out var v)) return null;
            if (v is not YamlScalarNode s) throw Error("TopologyInvalidValue", source, v.Start, path, "must be a single value.", null);
            return s.Value is null or "" or "~" or "null" ? null : s.Value;
        }

        /// <summary>
        /// An image reference that pins a version: a tag other than <c>latest</c>, or a digest (<c>@sha256:…</c>).
        /// </summary>
        public string? Image(YamlMappingNode map, string key, string path)
        {
            var v = Str(map, key, path);
            if (v is null) return null;
            var lastPart = v[(v.LastIndexOf('/') + 1)..];
            var tag = v.Contains('@', StringComparison.Ordinal) ? "digest" : lastPart.Contains(':', StringComparison.Ordinal) ? lastPart[(lastPart.IndexOf(':') + 1)..] : "";
            if (v.Any(char.IsWhiteSpace) || tag.Length == 0 || tag == "latest")
                throw Error("TopologyInvalidValue", source, map.Children[new YamlScalarNode(key)].Start, path,
                    $"image '{v}' does not pin a version.", "Give a tag other than latest (repository:1.2.3) or a digest (repository@sha256:...): benchmarks must be reproducible.");
            return v;
        }

        public int? Int(YamlMappingNode map, string key, string path, int min, int max)
        {
            var l = Long(map, key, path, min, max);
            return l is null ? null : (int)l.Value;
        }

        public long? Long(YamlMappingNode map, string key, string path, long min, long max)
        {
            var s = Str(map, key, path);
            if (s is null) return null;
            var clean = s.Replace("_", "");
            if (!long.TryParse(clean, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
                throw Error("TopologyInvalidValue", source, ValueMark(map, key), path, $"'{s}' is not a whole number.", null);
            if (value < min || value > max)
                throw Error("TopologyInvalidValue", source, ValueMark(map, key), path, $"{value} is out of range ({min}..{max}).", null);
            return value;
        }

        public IReadOnlyList<string>? StrList(YamlMappingNode map, string key, string path)
        {
            if (!map.Children.TryGetValue(new YamlScalarNode(key), out var v)) return null;
            if (v is YamlScalarNode s)
                return (s.Value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (v is YamlSequenceNode seq)
                return seq.Children.Select(c => (c as YamlScalarNode)?.Value ?? throw Error("TopologyInvalidValue", source, c.Start, path, "list items must be single values.", null)).ToList();
            throw Error("TopologyInvalidValue", source, v.Start, path, "must be a list.", null);
        }

        private static int Distance(string a, string b)
        {
            var d = new int[a.Length + 1, b.Length + 1];
            for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
            for (var j = 0; j <= b.Length; j++) d[0, j] = j;
            for (var i = 1; i <= a.Length; i++)
                for (var j = 1; j <= b.Length; j++)
                    d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            return d[a.Length, b.Length];
        }
    }
}

/// <summary>Limits of topology input.</summary>
public static class TopologyLoaderLimits
{
    /// <summary>Largest topology file or text read (1 MiB; a 200-node topology is about 20 KB).</summary>
    public const int MaxBytes = 1024 * 1024;
}

/// <summary>Where a topology error is: the TargetObject of topology ErrorRecords.</summary>
public sealed record TopologyErrorLocation(string File, int Line, int Column, string Key)
{
    public override string ToString() => Key.Length > 0 ? $"{File}:{Line} ({Key})" : $"{File}:{Line}";
}

/// <summary>Path helpers: '~' expansion and resolution relative to a base folder.</summary>
public static class PathUtil
{
    public static string ExpandHome(string path)
    {
        if (path == "~" || path.StartsWith("~/", StringComparison.Ordinal))
        {
            var home = Environment.GetEnvironmentVariable("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            return home + path[1..];
        }
        return path;
    }

    public static string Resolve(string path, string baseDir)
    {
        var expanded = ExpandHome(path);
        return System.IO.Path.IsPathRooted(expanded) ? expanded : System.IO.Path.GetFullPath(System.IO.Path.Combine(baseDir, expanded));
    }
}
