using System.Text;
using System.Text.Json;
using PiBench.Tests.Harness;

namespace PiBench.Tests;

/// <summary>
/// The staged module carries the plotting library's native parts for the Pis (linux-arm64) and for x64 hosts, as the
/// right ELF machine, named in PiBench.Core.deps.json (where the module's load context looks them up), and needing
/// nothing beyond glibc (no fontconfig or freetype on a Raspberry Pi OS Lite). Loading them on x64 is checked by
/// ReportCommandTests through /proc/self/maps; arm64 cannot be executed on this machine.
/// </summary>
public sealed class ReportNativeAssetTests
{
    private static readonly string Deps = Path.Combine(StagedModule.Directory, "dependencies");

    [Theory]
    [InlineData("linux-x64", 62)]   // EM_X86_64
    [InlineData("linux-arm64", 183)] // EM_AARCH64
    public void StagedModule_CarriesSkiaSharpAndHarfBuzzNatives(string rid, int machine)
    {
        using var deps = JsonDocument.Parse(File.ReadAllText(Path.Combine(Deps, "PiBench.Core.deps.json")));
        var named = deps.RootElement.GetProperty("targets").EnumerateObject().First().Value.EnumerateObject()
            .Where(p => p.Value.TryGetProperty("runtimeTargets", out _))
            .SelectMany(p => p.Value.GetProperty("runtimeTargets").EnumerateObject()
                .Where(t => t.Value.GetProperty("rid").GetString() == rid && t.Value.GetProperty("assetType").GetString() == "native")
                .Select(t => t.Name)).ToList();
        foreach (var lib in new[] { "libSkiaSharp.so", "libHarfBuzzSharp.so" })
        {
            var rel = $"runtimes/{rid}/native/{lib}";
            Assert.Contains(rel, named);
            var path = Path.Combine(Deps, rel);
            Assert.True(File.Exists(path), $"{path} is not staged");
            var elf = File.ReadAllBytes(path);
            Assert.Equal(new byte[] { 0x7F, (byte)'E', (byte)'L', (byte)'F' }, elf[..4]);
            Assert.Equal(2, elf[4]); // ELFCLASS64
            Assert.Equal(machine, BitConverter.ToUInt16(elf, 18));
            var needed = Needed(elf);
            Assert.NotEmpty(needed);
            Assert.All(needed, n => Assert.Contains(n, new[] { "libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "ld-linux-aarch64.so.1", "ld-linux-x86-64.so.2" }));
        }
    }

    /// <summary>DT_NEEDED entries of a little-endian ELF64 shared object, read through its program headers.</summary>
    private static List<string> Needed(byte[] elf)
    {
        long phoff = BitConverter.ToInt64(elf, 32);
        int phentsize = BitConverter.ToUInt16(elf, 54), phnum = BitConverter.ToUInt16(elf, 56);
        var loads = new List<(long VAddr, long Offset, long Size)>();
        long dynOff = -1, dynSize = 0;
        for (var i = 0; i < phnum; i++)
        {
            var p = (int)(phoff + i * phentsize);
            var type = BitConverter.ToUInt32(elf, p);
            var offset = BitConverter.ToInt64(elf, p + 8);
            var vaddr = BitConverter.ToInt64(elf, p + 16);
            var filesz = BitConverter.ToInt64(elf, p + 32);
            if (type == 1) loads.Add((vaddr, offset, filesz));
            if (type == 2) { dynOff = offset; dynSize = filesz; }
        }
        Assert.True(dynOff > 0, "no PT_DYNAMIC");
        long strtab = 0;
        var neededOffsets = new List<long>();
        for (var d = dynOff; d < dynOff + dynSize; d += 16)
        {
            var tag = BitConverter.ToInt64(elf, (int)d);
            var val = BitConverter.ToInt64(elf, (int)d + 8);
            if (tag == 0) break;
            if (tag == 1) neededOffsets.Add(val);
            if (tag == 5) strtab = val;
        }
        var seg = loads.Single(l => strtab >= l.VAddr && strtab < l.VAddr + l.Size);
        var strOff = strtab - seg.VAddr + seg.Offset;
        return neededOffsets.Select(o =>
        {
            var start = (int)(strOff + o);
            var end = Array.IndexOf(elf, (byte)0, start);
            return Encoding.ASCII.GetString(elf, start, end - start);
        }).ToList();
    }
}
