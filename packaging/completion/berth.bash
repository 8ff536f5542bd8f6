# bash completion for berth (static: verbs, subcommands, common flags).
# Container and image names come from the daemon: `berth ps -a --format`
# and `berth images --format` (quietly nothing when berthd is not running).

_berth_containers() {
  berth ps -a --format '{{.Names}}' 2>/dev/null
}

_berth_images() {
  berth images --format '{{.Repository}}:{{.Tag}}' 2>/dev/null | grep -v '<none>'
}

_berth() {
  local cur prev words cword
  _init_completion || return

  local verbs="attach commit container cp create diff doctor events exec export history image
    images import info inspect kill load login logout logs network pause port ps pull push rename
    restart rm rmi run save search start stats stop system tag top unpause update version volume
    wait"
  local globals="-H --host --config -D --debug -l --log-level --tls --tlsverify --tlscacert
    --tlscert --tlskey -v --version --help"

  # The verb: the first word that is not a global flag (or its value).
  local i verb="" sub="" after_verb=0
  for ((i = 1; i < cword; i++)); do
    case "${words[i]}" in
      -H | --host | --config | -l | --log-level | --tlscacert | --tlscert | --tlskey) ((i++)) ;;
      -*) ;;
      *)
        if [[ -z $verb ]]; then
          verb=${words[i]}
          after_verb=$i
        elif [[ -z $sub ]]; then
          sub=${words[i]}
        fi
        ;;
    esac
  done

  if [[ -z $verb ]]; then
    if [[ $cur == -* ]]; then
      COMPREPLY=($(compgen -W "$globals" -- "$cur"))
    else
      COMPREPLY=($(compgen -W "$verbs" -- "$cur"))
    fi
    return
  fi

  local group_subs=""
  case $verb in
    container) group_subs="attach commit cp create diff exec export inspect kill logs ls pause port
      prune rename restart rm run start stats stop top unpause update wait" ;;
    image) group_subs="history import inspect load ls prune pull push rm save tag" ;;
    network) group_subs="connect create disconnect inspect ls prune rm" ;;
    volume) group_subs="create inspect ls prune rm" ;;
    system) group_subs="df events info prune" ;;
  esac
  if [[ -n $group_subs && -z $sub && $((cword - after_verb)) -eq 1 ]]; then
    COMPREPLY=($(compgen -W "$group_subs" -- "$cur"))
    return
  fi
  local cmd=$verb
  [[ -n $group_subs ]] && cmd=$sub

  if [[ $cur == -* ]]; then
    local flags="--help"
    case $cmd in
      run | create) flags+=" -d --detach -i --interactive -t --tty --rm --name -e --env --env-file
        -p --publish -P --publish-all -v --volume --mount --network --network-alias -w --workdir
        -u --user --entrypoint --restart --init --privileged --cap-add --cap-drop -m --memory
        --cpus --pids-limit --label --log-opt --hostname --add-host --dns --read-only
        --security-opt --health-cmd --platform --pull" ;;
      exec) flags+=" -d --detach -i --interactive -t --tty -e --env -u --user -w --workdir
        --privileged" ;;
      ps | ls) flags+=" -a --all -q --quiet -f --filter --format --no-trunc -n --last -l --latest
        -s --size" ;;
      logs) flags+=" -f --follow --since --until -t --timestamps -n --tail --details" ;;
      rm) flags+=" -f --force -v --volumes -l --link" ;;
      rmi) flags+=" -f --force --no-prune" ;;
      stop | restart) flags+=" -t --time -s --signal" ;;
      kill) flags+=" -s --signal" ;;
      images) flags+=" -a --all -q --quiet -f --filter --format --digests --no-trunc" ;;
      pull | push) flags+=" -a --all-tags -q --quiet --platform" ;;
      inspect) flags+=" -f --format -s --size --type" ;;
      prune) flags+=" -a --all -f --force --filter" ;;
      doctor) flags+=" --dashboard --root" ;;
      stats) flags+=" -a --all --no-stream --format" ;;
    esac
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
    return
  fi

  case $cmd in
    run | create | pull | push | rmi | history | save | tag)
      COMPREPLY=($(compgen -W "$(_berth_images)" -- "$cur")) ;;
    attach | commit | cp | diff | exec | export | kill | logs | pause | port | rename | restart | \
      rm | start | stats | stop | top | unpause | update | wait | inspect)
      COMPREPLY=($(compgen -W "$(_berth_containers)" -- "$cur")) ;;
  esac
}

complete -F _berth berth
