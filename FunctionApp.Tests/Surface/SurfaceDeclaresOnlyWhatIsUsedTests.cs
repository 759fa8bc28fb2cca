#if FUNCTIONSCHAT_SURFACE
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using System.Runtime.CompilerServices;
using FunctionsChat.Sessions;
using Microsoft.DurableTask.Entities;

namespace FunctionsChat.Tests.Surface;

public class SurfaceDeclaresOnlyWhatIsUsedTests
{
    static readonly Assembly Surface = typeof(ITaskEntity).Assembly;

    [Fact]
    public void Every_public_type_and_member_of_the_surface_is_used_by_the_app_or_its_tests()
    {
        var used = UsedMembers(typeof(ChatSession).Assembly, typeof(SurfaceDeclaresOnlyWhatIsUsedTests).Assembly);
        var usedTypes = UsedTypes(used);

        var unused = new List<string>();
        foreach (var (type, line, member) in ApiListing.Lines(Surface))
        {
            bool isUsed = member is null
                ? usedTypes.Contains(type)
                : IsUsed(member, used) || IsStructural(member) || IsOverriddenByApp(member) || IsRecordComponentOfUsedConstructor(member, used);
            if (!isUsed)
            {
                unused.Add(line);
            }
        }

        Assert.True(unused.Count == 0, "The surface declares what nothing uses; remove it:\n" + string.Join("\n", unused));
    }

    /// <summary>Surface members referenced from the IL metadata of the given assemblies, as definitions.</summary>
    static HashSet<int> UsedMembers(params Assembly[] assemblies)
    {
        var tokens = new HashSet<int>();
        foreach (var assembly in assemblies)
        {
            using var stream = File.OpenRead(assembly.Location);
            using var pe = new PEReader(stream);
            var reader = pe.GetMetadataReader();
            var module = assembly.ManifestModule;
            foreach (var (table, prefix) in new[] { (TableIndex.MemberRef, 0x0A), (TableIndex.MethodSpec, 0x2B), (TableIndex.TypeRef, 0x01), (TableIndex.TypeSpec, 0x1B) })
            {
                for (int row = 1; row <= reader.GetTableRowCount(table); row++)
                {
                    MemberInfo? member;
                    try
                    {
                        member = module.ResolveMember((prefix << 24) | row);
                    }
                    catch (ArgumentException)
                    {
                        continue; // a member of a generic context this resolution cannot name: not one of the surface's
                    }

                    if (member is MethodInfo { IsGenericMethod: true } generic)
                    {
                        member = generic.GetGenericMethodDefinition();
                    }

                    if (member is Type { IsGenericType: true } constructed)
                    {
                        member = constructed.GetGenericTypeDefinition();
                    }

                    if (member?.Module == Surface.ManifestModule)
                    {
                        tokens.Add(member.MetadataToken);
                    }
                }
            }
        }

        return tokens;
    }

    static bool IsUsed(MemberInfo member, HashSet<int> used) => member switch
    {
        PropertyInfo property => new[] { property.GetMethod, property.SetMethod }.Any(a => a is not null && used.Contains(a.MetadataToken)),
        _ => used.Contains(member.MetadataToken),
    };

    /// <summary>Types referenced, declaring a used member, or standing under a used type (its bases and interfaces).</summary>
    static HashSet<Type> UsedTypes(HashSet<int> used)
    {
        var types = Surface.GetTypes()
            .Where(t => used.Contains(t.MetadataToken) || t.GetMembers(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly).Any(m => IsUsed(m, used)))
            .ToHashSet();
        var pending = new Queue<Type>(types);
        while (pending.TryDequeue(out var type))
        {
            foreach (var next in type.GetInterfaces().Append(type.BaseType))
            {
                var definition = next is { IsGenericType: true } ? next.GetGenericTypeDefinition() : next;
                if (definition?.Assembly == Surface && types.Add(definition))
                {
                    pending.Enqueue(definition);
                }
            }
        }

        return types;
    }

    /// <summary>
    /// Members that exist because the language or the runtime requires them, not because code calls them: what the
    /// compiler writes for records, the constructors of abstract types (derived classes and mocks call them), record
    /// copy constructors (called by the compiler's clone), interface members and their implementations, overrides of
    /// object's members, enum values (constants compile into the caller, so no reference to them remains) and the
    /// members the runtime gives every delegate.
    /// </summary>
    static bool IsStructural(MemberInfo member)
    {
        var type = member.DeclaringType!;
        return member.IsDefined(typeof(CompilerGeneratedAttribute), false)
            || member is MethodInfo { IsSpecialName: true } accessor && accessor.IsDefined(typeof(CompilerGeneratedAttribute), false)
            || member is ConstructorInfo && type.IsAbstract
            || member is ConstructorInfo copy && copy.GetParameters() is [{ } only] && only.ParameterType == type
            || type.IsInterface
            || member is MethodInfo method && (IsInterfaceImplementation(type, method) || method.GetBaseDefinition().DeclaringType == typeof(object) && method.DeclaringType != typeof(object))
            || type.IsEnum && member is FieldInfo
            || typeof(MulticastDelegate).IsAssignableFrom(type.BaseType);
    }

    static bool IsOverriddenByApp(MemberInfo member) =>
        member is MethodInfo { IsVirtual: true } virtualMethod
        && typeof(ChatSession).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Any(m => m.GetBaseDefinition() is var b && b.Module == Surface.ManifestModule && b.MetadataToken == virtualMethod.MetadataToken);

    /// <summary>A record's positional components come with its constructor.</summary>
    static bool IsRecordComponentOfUsedConstructor(MemberInfo member, HashSet<int> used) =>
        member is PropertyInfo property
        && property.DeclaringType!.GetConstructors()
            .Any(c => used.Contains(c.MetadataToken) && c.GetParameters().Any(p => p.Name == property.Name && p.ParameterType == property.PropertyType));

    static bool IsInterfaceImplementation(Type type, MethodInfo method) =>
        !type.IsInterface && type.GetInterfaces().Any(i => type.GetInterfaceMap(i).TargetMethods.Contains(method));
}
#endif
